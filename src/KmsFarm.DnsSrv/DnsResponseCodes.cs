using System.Globalization;

namespace KmsFarm.DnsSrv;

/// <summary>RFC mnemonics of DNS response codes (RFC 1035, 2136, 8945), as dig and BIND print them.</summary>
public static class DnsResponseCodes
{
    /// <summary>What a <see cref="DnsUpdateResult"/> or lookup reports when no response came back at all.</summary>
    public const string NoResponse = "NO-RESPONSE";

    /// <summary>The mnemonic of a header RCODE (0..15).</summary>
    public static string Name(int code) => code switch
    {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "RCODE" + code.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The mnemonic of a TSIG error field (RFC 8945 §5.3.2: 16 is BADSIG there, not BADVERS).</summary>
    public static string TsigErrorName(int code) => code switch
    {
        0 => "NOERROR",
        16 => "BADSIG",
        17 => "BADKEY",
        18 => "BADTIME",
        22 => "BADTRUNC",
        _ => Name(code),
    };
}
