using System.Collections.Frozen;

namespace KmsFarm.Protocol.Identity;

/// <summary>The Windows locale ids a KMS host ePID may carry (PROTOCOL-NOTES §7: the 158 values vlmcsd picks from).</summary>
public static class KnownLcids
{
    /// <summary>en-US, the default.</summary>
    public const int EnglishUnitedStates = 1033;

    private static readonly int[] Values =
    [
        1078, 1052, 1025, 2049, 3073, 4097, 5121, 6145, 7169, 8193, 9217, 10241, 11265, 12289, 13313, 14337, 15361, 16385,
        1067, 1068, 2092, 1069, 1059, 1093, 5146, 1026, 1027, 1028, 2052, 3076, 4100, 5124, 1050, 4122, 1029, 1030, 1125,
        1043, 2067, 1033, 2057, 3081, 4105, 5129, 6153, 7177, 8201, 9225, 10249, 11273, 12297, 13321, 1061, 1080, 1065,
        1035, 1036, 2060, 3084, 4108, 5132, 6156, 1079, 1110, 1031, 2055, 3079, 4103, 5127, 1032, 1095, 1037, 1081, 1038,
        1039, 1057, 1040, 2064, 1041, 1099, 1087, 1111, 1042, 1088, 1062, 1063, 1071, 1086, 2110, 1100, 1082, 1153, 1102,
        1104, 1044, 2068, 1045, 1046, 2070, 1094, 1131, 2155, 3179, 1048, 1049, 9275, 4155, 5179, 3131, 1083, 2107, 8251,
        6203, 7227, 1103, 2074, 6170, 3098, 7194, 1051, 1060, 1034, 2058, 3082, 4106, 5130, 6154, 7178, 8202, 9226, 10250,
        11274, 12298, 13322, 14346, 15370, 16394, 17418, 18442, 19466, 20490, 1089, 1053, 2077, 1114, 1097, 1092, 1098,
        1054, 1074, 1058, 1056, 1091, 2115, 1066, 1106, 1076, 1077,
    ];

    private static readonly FrozenSet<int> Set = Values.ToFrozenSet();

    /// <summary>Every valid LCID, in the order of the reference list.</summary>
    public static IReadOnlyList<int> All => Values;

    public static bool IsValid(int lcid) => Set.Contains(lcid);
}
