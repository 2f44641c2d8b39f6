using FaceIndex.Core;
using FaceIndex.IntegrationTests;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Fuzz;

/// <summary>
/// Request bytes → the real server in-process (TestHost): gRPC framing, the request parsers, the
/// interceptors and the service's validation, store and index. The first byte picks the method,
/// the rest is the message. A crash is an Internal or Unknown status, an error log, or a call that
/// does not return.
/// </summary>
internal sealed class RequestTarget : IFuzzTarget
{
    private static readonly string[] s_methods =
    [
        "Enroll", "Search", "Verify", "GetPerson", "ListPersons", "DeleteFace", "DeletePerson", "CreateCollection",
        "ListCollections", "DeleteCollection", "Stats", "StartClustering", "GetOperation", "CancelOperation",
        "ListClusters", "GetCluster", "EnrollStream",
    ];

    private static readonly Marshaller<byte[]> s_raw = Marshallers.Create(b => b, b => b);
    // afl-fuzz ends the process without disposing the target: scripts/fuzz.sh puts the store in its
    // work folder, which the next run deletes.
    private readonly string _data = Environment.GetEnvironmentVariable("FACEINDEX_FUZZ_DATA") is { Length: > 0 } dir
        ? Path.Combine(dir, $"store-{Environment.ProcessId}")
        : Path.Combine(Path.GetTempPath(), $"faceindex-fuzz-{Environment.ProcessId}");
    private readonly ErrorLog _errors = new();
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;

    public RequestTarget()
    {
        var root = Fuzz.Seeds.RepoRoot();
        var builder = Server.FaceIndexServer.CreateBuilder(
        [
            "--Storage:DataDirectory=" + _data,
            "--Vision:ModelsDirectory=" + Path.Combine(root, "models"),
            "--Vision:Sessions=1",
            "--Vision:MaxPixels=4000000",
            "--Server:MetricsPort=0",
            "--Server:HttpPort=0",
            "--Storage:MemoryBudgetBytes=" + (32L << 20),
            "--Storage:IndexBuckets=" + (1L << 14),
            "--Storage:WalMemoryBytes=" + (4L << 20),
            "--Storage:SegmentSizeBytes=" + (16L << 20),
            "--Indexing:BuildThreads=1",
            "--Logging:LogLevel:Default=Warning",
        ]);
        builder.WebHost.UseTestServer();
        builder.Logging.AddProvider(_errors);
        _app = Server.FaceIndexServer.Build(builder);
        _app.StartAsync().GetAwaiter().GetResult();
        var server = _app.GetTestServer();
        _channel = GrpcChannel.ForAddress(server.BaseAddress, new GrpcChannelOptions { HttpHandler = server.CreateHandler(), MaxReceiveMessageSize = 64 << 20 });
        _invoker = _channel.CreateCallInvoker();
    }

    public void Execute(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        string method = s_methods[input[0] % s_methods.Length];
        var body = input[1..];
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30));
        try
        {
            if (method == "EnrollStream")
            {
                Stream(body, options).GetAwaiter().GetResult();
            }
            else
            {
                var unary = new Method<byte[], byte[]>(MethodType.Unary, "faceindex.v1.FaceIndex", method, s_raw, s_raw);
                _invoker.AsyncUnaryCall(unary, null, options, body).ResponseAsync.GetAwaiter().GetResult();
            }
        }
        catch (RpcException e) when (e.StatusCode is not (StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss or StatusCode.DeadlineExceeded or StatusCode.Cancelled))
        {
            // A refusal with its status: what the server promises.
        }
        catch (RpcException e)
        {
            throw new FuzzCrashException($"{method}: {e.StatusCode} {e.Status.Detail}", e);
        }

        if (_errors.Lines.TryDequeue(out var line))
        {
            throw new FuzzCrashException($"{method}: the server logged an error: {line}");
        }
    }

    public IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        var vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(Vector(1)), ModelVersion = "fr512-pca128-v1" };
        var (rgba, w, h) = IntegrationTests.HostileImages.Pixels(File.ReadAllBytes(Fuzz.Seeds.Faces("deepface", "img1.jpg")), maxSide: 96);
        var image = ByteString.CopyFrom(IntegrationTests.HostileImages.Png8(rgba, w, h));
        IMessage[] messages =
        [
            new EnrollRequest { PersonId = "alice", Vector = vector, Tags = { ["camera"] = "door" }, ClientRef = "r1" },
            new SearchRequest { Vector = vector, TopK = 3, Threshold = 1.2f, Ef = 32 },
            new VerifyRequest { ImageA = image, PersonId = "alice" },
            new GetPersonRequest { PersonId = "alice" },
            new ListPersonsRequest { PageSize = 10 },
            new DeleteFaceRequest { FaceId = 1 },
            new DeletePersonRequest { PersonId = "bob" },
            new CreateCollectionRequest { Name = "lobby" },
            new ListCollectionsRequest(),
            new DeleteCollectionRequest { Name = "lobby" },
            new StatsRequest(),
            new StartClusteringRequest { Collection = "default" },
            new GetOperationRequest { Id = "op-1" },
            new CancelOperationRequest { Id = "op-1" },
            new ListClustersRequest { PageSize = 5 },
            new GetClusterRequest { ClusterId = 1 },
            new EnrollRequest { Collection = "lobby", PersonId = "carol", Image = image, FacePolicy = FacePolicy.All },
        ];
        for (int i = 0; i < messages.Length; i++)
        {
            byte selector = (byte)(i == messages.Length - 1 ? 0 : i);
            yield return ($"{s_methods[selector]}-{i}.bin", [selector, .. messages[i].ToByteArray()]);
        }

        yield return ("EnrollStream.bin", [(byte)(s_methods.Length - 1), .. ((IMessage)messages[0]).ToByteArray()]);
    }

    public void Dispose()
    {
        _channel.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private async Task Stream(byte[] body, CallOptions options)
    {
        var duplex = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "faceindex.v1.FaceIndex", "EnrollStream", s_raw, s_raw);
        using var call = _invoker.AsyncDuplexStreamingCall(duplex, null, options);
        await call.RequestStream.WriteAsync(body).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(default).ConfigureAwait(false))
        {
            var result = EnrollStreamResult.Parser.ParseFrom(call.ResponseStream.Current);
            if (result.Error is { } error && error.Code is (int)StatusCode.Internal or (int)StatusCode.Unknown)
            {
                throw new FuzzCrashException($"EnrollStream item: {error.Code} {error.Message}");
            }
        }
    }

    private static byte[] Vector(int seed)
    {
        var x = new float[Core.FaceVector.Dimensions];
        SyntheticFaces.BaseRow(seed, x);
        return Quantizer.Quantize(x).ToArray();
    }
}
