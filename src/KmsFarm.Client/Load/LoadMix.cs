namespace KmsFarm.Client.Load;

/// <summary>Which products the simulated population runs.</summary>
public enum LoadMix
{
    /// <summary>Mostly Windows 10/11 desktops, some Windows Server, some Office (2010 to 2021).</summary>
    Default,

    /// <summary>Windows desktop editions only.</summary>
    Windows,

    /// <summary>Office only (2010, 2013, 2016, 2019, LTSC 2021).</summary>
    Office,

    /// <summary>Windows Server only.</summary>
    Server,
}
