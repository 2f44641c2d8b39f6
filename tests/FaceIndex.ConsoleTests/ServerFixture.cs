namespace FaceIndex.ConsoleTests;

/// <summary>One loopback server shared by the tests of a class (each test works in collections of its own).</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private LoopbackServer? _server;

    internal LoopbackServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => _server = await LoopbackServer.StartAsync("--Server:MaxMessageBytes=" + (2 << 20));

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
