using Npgsql;

namespace KmsFarm.Storage.Postgres.Tests;

public sealed class ConnectionStringDefaultsTests
{
    [Theory]
    [InlineData("Host=127.0.0.1;Database=kms")]
    [InlineData("postgresql://kms@127.0.0.1:5433/farm")]
    public void Statements_are_auto_prepared_when_the_string_does_not_say(string value)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionString.WithStoreDefaults(value));

        Assert.Equal(PostgresConnectionString.DefaultMaxAutoPrepare, builder.MaxAutoPrepare);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Max Auto Prepare=0", 0)]
    [InlineData("Host=127.0.0.1;MaxAutoPrepare=5", 5)]
    [InlineData("postgresql://kms@127.0.0.1/farm?Max%20Auto%20Prepare=7", 7)]
    public void An_explicit_max_auto_prepare_is_kept(string value, int expected)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionString.WithStoreDefaults(value));

        Assert.Equal(expected, builder.MaxAutoPrepare);
    }

    [Fact]
    public void Other_settings_pass_through()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionString.WithStoreDefaults("Host=db;Port=6432;Username=kms;Pooling=false"));

        Assert.Equal(("db", 6432, "kms", false), (builder.Host, builder.Port, builder.Username, builder.Pooling));
    }
}
