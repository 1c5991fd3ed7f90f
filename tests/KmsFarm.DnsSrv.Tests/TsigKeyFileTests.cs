namespace KmsFarm.DnsSrv.Tests;

public sealed class TsigKeyFileTests
{
    private const string Secret = "kqHSu4AuDH2pI6UcgYhXr2uRRF/W9sGVeJ+Nd7nE3gU=";

    [Fact]
    public void Reads_what_tsig_keygen_writes()
    {
        string text = $"key \"kms-host\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{Secret}\";\n}};\n";

        Assert.True(TsigKeyFile.TryParse(text, out var key, out string? error), error);

        Assert.Equal("kms-host", key.Name);
        Assert.Equal("hmac-sha256", key.Algorithm);
        Assert.Equal(Convert.FromBase64String(Secret), key.CopySecret());
        Assert.Equal("kms-host (hmac-sha256)", key.ToString());
    }

    [Fact]
    public void Skips_comments_and_accepts_any_spacing_and_case()
    {
        string text = $$"""
            # made for the lab
            // another comment
            /* and
               a block */ KEY kms.lab.test{ALGORITHM HMAC-SHA512;secret "{{Secret}}";} ;
            """;

        Assert.True(TsigKeyFile.TryParse(text, out var key, out string? error), error);
        Assert.Equal(("kms.lab.test", "hmac-sha512"), (key.Name, key.Algorithm));
    }

    [Theory]
    [InlineData("", "holds no key")]
    [InlineData("key \"a\" { algorithm hmac-md5; secret \"" + Secret + "\"; };", "uses algorithm 'hmac-md5'")]
    [InlineData("key \"a\" { algorithm hmac-sha256; };", "has no secret")]
    [InlineData("key \"a\" { secret \"" + Secret + "\"; };", "has no algorithm")]
    [InlineData("key \"a\" { algorithm hmac-sha256; secret \"not base64!\"; };", "not base64")]
    [InlineData("key \"a\" { algorithm hmac-sha256; secret \"" + Secret + "\" };", "where ';' was expected")]
    [InlineData("key \"a\" { algorithm hmac-sha256; secret \"" + Secret + "\"; }; key \"b\" { algorithm hmac-sha256; secret \"" + Secret + "\"; };", "holds 2 keys")]
    [InlineData("key \"a\" { algorithm hmac-sha256; owner me; };", "unknown statement 'owner'")]
    [InlineData("key \"a\" { /* never closed", "never closed")]
    public void Rejects_what_it_cannot_use_with_a_reason_that_never_shows_the_secret(string text, string expected)
    {
        Assert.False(TsigKeyFile.TryParse(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_names_the_file()
    {
        var ex = Assert.Throws<FormatException>(() => TsigKeyFile.Load("/nonexistent/kms.key"));
        Assert.Contains("'/nonexistent/kms.key' cannot be read", ex.Message, StringComparison.Ordinal);
    }
}
