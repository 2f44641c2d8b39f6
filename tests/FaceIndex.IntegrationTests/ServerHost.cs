using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// The real server (models, store, index, interceptors) hosted in-process on TestHost over a data
/// directory, with a gRPC client on its handler. Records Error logs so that a test fails on an
/// unexpected fault.
/// </summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ErrorLog _errors;

    private ServerHost(WebApplication app, ErrorLog errors, GrpcChannel channel, string address)
    {
        _app = app;
        _errors = errors;
        Channel = channel;
        Address = address;
        Client = new Protocol.V1.FaceIndex.FaceIndexClient(channel);
    }

    /// <summary>The server's address (a loopback URL for a server on a real port).</summary>
    public string Address { get; }

    public GrpcChannel Channel { get; }

    public Protocol.V1.FaceIndex.FaceIndexClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Error-level log lines so far.</summary>
    public IReadOnlyCollection<string> Errors => _errors.Lines;

    /// <summary>Starts a server on <paramref name="dataDirectory"/> in TestHost; extra arguments are --Section:Setting=value.</summary>
    public static Task<ServerHost> StartAsync(string dataDirectory, params string[] settings) => StartAsync(dataDirectory, loopback: false, settings);

    /// <summary>Starts a server on <paramref name="dataDirectory"/> listening on a free loopback port (Kestrel, HTTP/2).</summary>
    public static Task<ServerHost> StartOnLoopbackAsync(string dataDirectory, params string[] settings) => StartAsync(dataDirectory, loopback: true, [.. settings, "--Server:Port=0"]);

    private static async Task<ServerHost> StartAsync(string dataDirectory, bool loopback, string[] settings)
    {
        string[] args =
        [
            "--Storage:DataDirectory=" + dataDirectory,
            "--Vision:ModelsDirectory=" + TestPaths.Models,
            "--Server:MetricsPort=0",
            "--Server:HttpPort=0",
            "--Storage:MemoryBudgetBytes=" + (32L << 20),
            "--Storage:IndexBuckets=" + (1L << 14),
            "--Storage:WalMemoryBytes=" + (4L << 20),
            "--Storage:SegmentSizeBytes=" + (16L << 20),
            .. settings,
        ];
        var builder = Server.FaceIndexServer.CreateBuilder(args);
        if (!loopback)
        {
            builder.WebHost.UseTestServer();
        }

        var errors = new ErrorLog();
        builder.Logging.AddProvider(errors);
        var app = Server.FaceIndexServer.Build(builder);
        await app.StartAsync();
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20, MaxSendMessageSize = 64 << 20 };
        string address;
        if (loopback)
        {
            address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        }
        else
        {
            var server = app.GetTestServer();
            address = server.BaseAddress.ToString();
            options.HttpHandler = server.CreateHandler();
        }

        return new ServerHost(app, errors, GrpcChannel.ForAddress(address, options), address);
    }

    /// <summary>Stops the server gracefully (drain, snapshots, checkpoint) and checks that nothing logged an error.</summary>
    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Assert.True(_errors.Lines.IsEmpty, "Unexpected error logs:\n" + string.Join("\n", _errors.Lines));
    }
}

/// <summary>Images of ../shared/faces/deepface and the identities that its master.csv establishes.</summary>
internal static class Deepface
{
    /// <summary>Identities (connected by "Yes" pairs of master.csv), each with its images.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> People = new Dictionary<string, string[]>
    {
        ["angelina"] = ["img1.jpg", "img2.jpg", "img4.jpg", "img5.jpg", "img6.jpg", "img7.jpg", "img10.jpg", "img11.jpg"],
        ["jennifer"] = ["img13.jpg", "img14.jpg", "img15.jpg"],
        ["p-3-12"] = ["img3.jpg", "img12.jpg"],
        ["p-8-9"] = ["img8.jpg", "img9.jpg"],
        ["p-16-17"] = ["img16.jpg", "img17.jpg"],
        ["p-18-19"] = ["img18.jpg", "img19.jpg"],
        ["p-20-21"] = ["img20.jpg", "img21.jpg"],
        ["p-22-23"] = ["img22.jpg", "img23.jpg"],
        ["p-24-25"] = ["img24.jpg", "img25.jpg"],
    };

    public static byte[] Image(string file) => File.ReadAllBytes(TestPaths.Faces("deepface", file));

    public static Google.Protobuf.ByteString Bytes(string file) => Google.Protobuf.ByteString.CopyFrom(Image(file));

    /// <summary>People of ../shared/faces/lfw-disjoint: never enrolled by the tests, for open-set checks.</summary>
    public static Google.Protobuf.ByteString Stranger(string name, int number = 1) =>
        Google.Protobuf.ByteString.CopyFrom(File.ReadAllBytes(StrangerPath(name, number)));

    public static string StrangerPath(string name, int number = 1) => TestPaths.Faces("lfw-disjoint", name, $"{name}_{number:D4}.jpg");

    public static EnrollRequest Enroll(string person, string file, string collection = "") =>
        new() { Collection = collection, PersonId = person, Image = Bytes(file) };
}
