using FaceIndex.Server;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FaceIndex.Cli.Clustering;

/// <summary>
/// The FaceIndex server run inside the CLI over a data directory, on a free loopback port, so that a
/// verb working "on a data directory directly" runs the very code a server runs (recovery, index
/// reconciliation, operations, stored results) through the same gRPC calls. The store's lock keeps a
/// server from opening the directory meanwhile; stopping drains, snapshots and checkpoints as a server does.
/// </summary>
internal sealed class EmbeddedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbeddedServer(WebApplication app, GrpcChannel channel)
    {
        _app = app;
        Channel = channel;
    }

    public GrpcChannel Channel { get; }

    /// <summary>Opens <paramref name="dataDirectory"/> (which must hold a FaceIndex store) and starts serving on 127.0.0.1.</summary>
    /// <param name="dataDirectory">The server's data directory.</param>
    /// <param name="settings">More <c>--Section:Setting=value</c> arguments (for example --Vision:ModelsDirectory).</param>
    /// <param name="ct">Cancels the start.</param>
    public static async Task<EmbeddedServer> StartAsync(string dataDirectory, IEnumerable<string> settings, CancellationToken ct)
    {
        if (!FaceIndex.Storage.FaceStore.Exists(dataDirectory))
        {
            throw new DirectoryNotFoundException($"{dataDirectory} is not a FaceIndex data directory (no store in it).");
        }

        string[] args =
        [
            .. settings,
            "--Storage:DataDirectory=" + dataDirectory,
            "--Server:Address=127.0.0.1",
            "--Server:Port=0",
            "--Server:MetricsPort=0",
            "--Auth:Enabled=false",
            "--Logging:LogLevel:Default=Warning",

            // A start that fails (the directory held by a server, say) is reported by the command in one line.
            "--Logging:LogLevel:Microsoft.Extensions.Hosting=None",
        ];
        var app = FaceIndexServer.Build(FaceIndexServer.CreateBuilder(args));
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        return new EmbeddedServer(app, channel);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
