namespace KmsFarm.DnsSrv;

/// <summary>How a dynamic update (or the lookups before it) went.</summary>
/// <param name="ResponseCode">The server's response code (NOERROR, NOTAUTH, REFUSED, …), or
/// <see cref="DnsResponseCodes.NoResponse"/> when nothing came back.</param>
/// <param name="TsigError">The TSIG error the server reported (BADSIG, BADKEY, BADTIME), or null.</param>
/// <param name="Detail">What was done, or what went wrong, in words.</param>
public sealed record DnsUpdateResult(bool Succeeded, string ResponseCode, string? TsigError, string Detail)
{
    /// <summary>The response code with the TSIG error, e.g. <c>NOTAUTH (TSIG BADSIG)</c>.</summary>
    public string Code => TsigError is null or "NOERROR" ? ResponseCode : $"{ResponseCode} (TSIG {TsigError})";

    public override string ToString() => $"{Code}: {Detail}";

    internal static DnsUpdateResult Success(string detail) => new(true, "NOERROR", null, detail);

    internal static DnsUpdateResult Failure(string responseCode, string detail, string? tsigError = null) => new(false, responseCode, tsigError, detail);
}
