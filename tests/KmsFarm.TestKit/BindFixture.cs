using Xunit;

namespace KmsFarm.TestKit;

/// <summary>One <see cref="BindServer"/> for a test class, primary for <c>lab.test</c> and <c>lab2.test</c>. Tests that
/// share it keep apart by using a domain of their own under those zones (<see cref="NewDomain"/>).</summary>
public sealed class BindFixture : IAsyncLifetime
{
    private BindServer? _server;

    public BindServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>A fresh domain under <paramref name="zone"/>, e.g. <c>t1a2b3c4.lab.test</c>.</summary>
    public static string NewDomain(string zone = "lab.test") => "t" + Guid.NewGuid().ToString("N")[..8] + "." + zone;

    public async ValueTask InitializeAsync() => _server = await BindServer.StartAsync(["lab.test", "lab2.test"]).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
