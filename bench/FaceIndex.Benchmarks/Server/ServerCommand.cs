using System.Diagnostics;
using System.Globalization;
using FaceIndex.Benchmarks.Hnsw;
using FaceIndex.Protocol.V1;
using FaceIndex.Server;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using HdrHistogram;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Benchmarks.Server;

/// <summary>
/// <c>server --n 100000|1000000 [--streams 4] [--window 256] [--cache DIR] [--data-dir DIR] [--rebuild] [--search-only]</c>:
/// the whole server on loopback over the GENERATOR.md set. Prints durable Enroll-by-vector throughput
/// (EnrollStream, and unary calls), the background indexing time, gRPC Search-by-vector latency
/// (HdrHistogram, one client and four) with recall@10, graceful shutdown, and recovery time on
/// restart (with the index snapshot; with <c>--rebuild</c> also without it). <c>--search-only</c> reopens
/// the <c>--data-dir</c> of an earlier run and measures only the searches.
/// </summary>
internal static class ServerCommand
{
    private const int UnaryEnrolls = 20_000;
    private const string UnaryPrefix = "unary-";
    private const int SearchPasses = 10;

    public static int Run(string[] args)
    {
        var options = BenchArgs.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: server --n N [--streams 4] [--window 256] [--cache DIR] [--data-dir DIR] [--rebuild] [--search-only (on --data-dir of an earlier run)]");
            return 2;
        }

        return RunAsync(options).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(BenchArgs options)
    {
        int n = options.N;
        Console.WriteLine($"server --n {n} --streams {options.Streams} --window {options.Window}; {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var data = BenchData.Load(n, null, options.Cache);
        var dataDir = options.DataDir ?? Path.Combine(Path.GetTempPath(), "faceindex-bench-server-" + Guid.NewGuid().ToString("N"));
        try
        {
            if (options.SearchOnly)
            {
                await RecoverAsync(dataDir, n + UnaryEnrolls, data, "with the index snapshot");
            }

            await using (var server = await BenchServer.StartAsync(dataDir))
            {
                var client = server.Client;
                if (options.SearchOnly)
                {
                    await WaitIndexedAsync(client, n + UnaryEnrolls);
                }
                else
                {
                    var modelVersion = (await client.StatsAsync(new StatsRequest())).ModelVersion;
                    await EnrollStreamAsync(client, data, modelVersion, options);
                    await EnrollUnaryAsync(client, data, modelVersion);
                    await WaitIndexedAsync(client, n + UnaryEnrolls);
                }

                await SearchAsync(server, data, clients: 1);
                await SearchAsync(server, data, clients: 4);
                var stop = Stopwatch.StartNew();
                await server.StopAsync();
                Console.WriteLine($"graceful shutdown (drain, index snapshot, store checkpoint): {stop.Elapsed.TotalSeconds:F1} s");
            }

            if (options.SearchOnly)
            {
                return 0;
            }

            await RecoverAsync(dataDir, n + UnaryEnrolls, data, "with the index snapshot");
            if (options.Rebuild)
            {
                foreach (var snapshot in Directory.GetFiles(Path.Combine(dataDir, "index")))
                {
                    File.Delete(snapshot);
                }

                await RecoverAsync(dataDir, n + UnaryEnrolls, data, "without a snapshot (graph rebuilt in the background)");
            }
        }
        finally
        {
            if (options.DataDir is null)
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }

        return 0;
    }

    /// <summary>Enrols every base vector (person id = row) over several streams; each reply is durable.</summary>
    private static async Task EnrollStreamAsync(Protocol.V1.FaceIndex.FaceIndexClient client, BenchData data, string modelVersion, BenchArgs options)
    {
        const int Slice = 100_000;
        var clock = Stopwatch.StartNew();
        long acknowledged = 0;
        double sliceStart = 0;
        int next = -1;
        var streams = Enumerable.Range(0, options.Streams).Select(_ => Task.Run(async () =>
        {
            using var call = client.EnrollStream();
            using var window = new SemaphoreSlim(options.Window);
            var reader = Task.Run(async () =>
            {
                await foreach (var result in call.ResponseStream.ReadAllAsync())
                {
                    if (result.OutcomeCase != EnrollStreamResult.OutcomeOneofCase.Response)
                    {
                        throw new InvalidOperationException($"enrol failed: {result.Error.Reason} {result.Error.Message}");
                    }

                    window.Release();
                    long done = Interlocked.Increment(ref acknowledged);
                    if (done % Slice == 0)
                    {
                        // The rate of each slice shows warm-up (JIT tiers, first FASTER pages) apart from the steady state.
                        double now = clock.Elapsed.TotalSeconds;
                        double previous = Interlocked.Exchange(ref sliceStart, now);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  … {done:N0} acknowledged; last {Slice:N0} at {Slice / (now - previous):N0} faces/s"));
                    }
                }
            });
            int row;
            var buffered = new WriteOptions(WriteFlags.BufferHint);
            while ((row = Interlocked.Increment(ref next)) < data.N)
            {
                await window.WaitAsync();

                // Buffer while more requests may follow at once; flush before the window fills up.
                call.RequestStream.WriteOptions = window.CurrentCount > 0 && row % 64 != 63 ? buffered : null;
                await call.RequestStream.WriteAsync(Request(data, row, modelVersion));
            }

            call.RequestStream.WriteOptions = null;

            await call.RequestStream.CompleteAsync();
            await reader;
        })).ToArray();
        await Task.WhenAll(streams);

        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"durable Enroll-by-vector over EnrollStream ({options.Streams} streams × {options.Window} in flight): {data.N:N0} faces in {seconds:F1} s = {data.N / seconds:N0} faces/s");
    }

    /// <summary>Unary Enroll calls from 64 concurrent callers, for comparison with the stream.</summary>
    private static async Task EnrollUnaryAsync(Protocol.V1.FaceIndex.FaceIndexClient client, BenchData data, string modelVersion)
    {
        var latencies = new LongHistogram(TimeSpan.TicksPerSecond * 10, 3);
        var clock = Stopwatch.StartNew();
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < UnaryEnrolls)
            {
                long t0 = Stopwatch.GetTimestamp();
                await client.EnrollAsync(Request(data, i % data.N, modelVersion, UnaryPrefix));
                lock (latencies)
                {
                    latencies.RecordValue((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }
        })));
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"durable Enroll-by-vector, unary (64 concurrent callers): {UnaryEnrolls:N0} faces in {seconds:F1} s = {UnaryEnrolls / seconds:N0} faces/s; latency p50 {latencies.GetValueAtPercentile(50) / 1000.0:F2} ms, p99 {latencies.GetValueAtPercentile(99) / 1000.0:F2} ms");
    }

    /// <summary>
    /// The person ids of the exact top-10: the truth rows in order, each row under 20,000 followed by its
    /// unary copy (same vector, same distance), cut at 10 (a pair cut in two keeps both: either is right).
    /// </summary>
    private static HashSet<string> Expected(ReadOnlySpan<int> truth)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        int slots = 0;
        foreach (int row in truth)
        {
            if (slots >= BenchData.K)
            {
                break;
            }

            expected.Add(row.ToString(CultureInfo.InvariantCulture));
            slots++;
            if (row < UnaryEnrolls)
            {
                expected.Add(UnaryPrefix + row.ToString(CultureInfo.InvariantCulture));
                slots++;
            }
        }

        return expected;
    }

    /// <summary>The base row a match stands for: person ids are rows (the unary copies with a prefix).</summary>
    private static int Row(Match match) =>
        int.Parse(match.PersonId.StartsWith(UnaryPrefix, StringComparison.Ordinal) ? match.PersonId[UnaryPrefix.Length..] : match.PersonId, CultureInfo.InvariantCulture);

    private static EnrollRequest Request(BenchData data, int row, string modelVersion, string prefix = "") => new()
    {
        PersonId = prefix + row.ToString(CultureInfo.InvariantCulture),
        ClientRef = row.ToString(CultureInfo.InvariantCulture),
        Vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(data.Base[row].AsBytes()), ModelVersion = modelVersion },
    };

    private static async Task WaitIndexedAsync(Protocol.V1.FaceIndex.FaceIndexClient client, long faces)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var stats = await client.StatsAsync(new StatsRequest());
            if (stats.PendingFaces == 0 && stats.IndexedFaces >= faces)
            {
                break;
            }

            await Task.Delay(200);
        }

        Console.WriteLine($"background indexing caught up {clock.Elapsed.TotalSeconds:F1} s after the last acknowledgement");
    }

    /// <summary>Search-by-vector over gRPC: <see cref="SearchPasses"/> passes over the queries after a warm-up pass, top-10, default ef.</summary>
    private static async Task SearchAsync(BenchServer server, BenchData data, int clients)
    {
        var requests = data.Queries.Select(q => new SearchRequest
        {
            Vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(q.AsBytes()), ModelVersion = "fr512-pca128-v1" },
            TopK = BenchData.K,
            Threshold = 4f,
        }).ToArray();
        foreach (var request in requests)
        {
            await server.Client.SearchAsync(request);
        }

        var histogram = new LongHistogram(TimeSpan.TicksPerSecond * 10, 3);
        long hits = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var client = new Protocol.V1.FaceIndex.FaceIndexClient(server.NewChannel());
            var local = new LongHistogram(TimeSpan.TicksPerSecond * 10, 3);
            long localHits = 0;
            for (int pass = 0; pass < SearchPasses; pass++)
            {
                for (int q = c; q < requests.Length; q += clients)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    var reply = await client.SearchAsync(requests[q]);
                    local.RecordValue((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                    if (pass == 0)
                    {
                        var truth = data.Truth.AsSpan(q * BenchData.K, BenchData.K);
                        var expected = Expected(truth);
                        localHits += Math.Min(BenchData.K, reply.Faces[0].Matches.Count(m => expected.Contains(m.PersonId)));
                    }
                }
            }

            lock (histogram)
            {
                histogram.Add(local);
                hits += localHits;
            }
        })));
        double seconds = clock.Elapsed.TotalSeconds;
        long calls = histogram.TotalCount;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gRPC Search-by-vector, {clients} client(s), top-10, default ef: {calls / seconds:N0} searches/s; latency p50 {histogram.GetValueAtPercentile(50)} µs, p90 {histogram.GetValueAtPercentile(90)} µs, p99 {histogram.GetValueAtPercentile(99)} µs, p99.9 {histogram.GetValueAtPercentile(99.9)} µs, max {histogram.GetMaxValue()} µs; recall@10 {(double)hits / (requests.Length * BenchData.K):F3}"));
    }

    /// <summary>Restarts on the data directory: time until health says SERVING, then until every face is in a graph.</summary>
    private static async Task RecoverAsync(string dataDir, long faces, BenchData data, string how)
    {
        var clock = Stopwatch.StartNew();
        await using var server = await BenchServer.StartAsync(dataDir);
        double serving = clock.Elapsed.TotalSeconds;
        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest());
        var stats = await server.Client.StatsAsync(new StatsRequest());
        var first = await server.Client.SearchAsync(new SearchRequest { Vector = new Protocol.V1.FaceVector { Data = ByteString.CopyFrom(data.Queries[0].AsBytes()), ModelVersion = "fr512-pca128-v1" }, TopK = 1, Threshold = 4f });
        bool found = data.Truth.AsSpan(0, BenchData.K).Contains(Row(first.Faces[0].Matches[0]));
        Console.WriteLine($"recovery {how}: {stats.Faces:N0} faces, serving ({health.Status}) after {serving:F1} s with {stats.PendingFaces:N0} faces queued for the graph; first search correct: {found}");
        if (stats.Faces != faces)
        {
            throw new InvalidOperationException($"expected {faces} faces after recovery, found {stats.Faces}");
        }

        if (stats.PendingFaces > 0)
        {
            await WaitIndexedAsync(server.Client, faces);
        }
    }

    private sealed record BenchArgs(int N, int Streams, int Window, string Cache, string? DataDir, bool Rebuild, bool SearchOnly)
    {
        public static BenchArgs? Parse(string[] args)
        {
            int n = 0;
            int streams = 4;
            int window = 256;
            string cache = Path.Combine(Path.GetTempPath(), "faceindex-bench");
            string? dataDir = null;
            bool rebuild = false;
            bool searchOnly = false;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--rebuild": rebuild = true; continue;
                    case "--search-only": searchOnly = true; continue;
                    case "--n" when i + 1 < args.Length: n = int.Parse(args[++i], CultureInfo.InvariantCulture); continue;
                    case "--streams" when i + 1 < args.Length: streams = int.Parse(args[++i], CultureInfo.InvariantCulture); continue;
                    case "--window" when i + 1 < args.Length: window = int.Parse(args[++i], CultureInfo.InvariantCulture); continue;
                    case "--cache" when i + 1 < args.Length: cache = args[++i]; continue;
                    case "--data-dir" when i + 1 < args.Length: dataDir = args[++i]; continue;
                    default: return null;
                }
            }

            return n > 0 && n % 100_000 == 0 && streams >= 1 && window >= 1 && (!searchOnly || dataDir is not null)
                ? new BenchArgs(n, streams, window, cache, dataDir, rebuild, searchOnly)
                : null;
        }
    }
}

/// <summary>The server in-process on a free loopback port, with the settings a 1M-face deployment needs.</summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _address;
    private bool _stopped;

    private BenchServer(WebApplication app, string address)
    {
        _app = app;
        _address = address;
        Channel = NewChannel();
        Client = new Protocol.V1.FaceIndex.FaceIndexClient(Channel);
    }

    public GrpcChannel Channel { get; }

    public Protocol.V1.FaceIndex.FaceIndexClient Client { get; }

    public static async Task<BenchServer> StartAsync(string dataDir)
    {
        string[] args =
        [
            "--Storage:DataDirectory=" + dataDir,
            "--Storage:MemoryBudgetBytes=" + (1L << 30),
            "--Server:Port=0",
            "--Server:MetricsPort=0",
            "--Server:HttpPort=0",
            "--Logging:LogLevel:Default=Warning",
        ];
        var builder = FaceIndexServer.CreateBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = FaceIndexServer.Build(builder);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BenchServer(app, address);
    }

    public GrpcChannel NewChannel() => GrpcChannel.ForAddress(_address);

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            Channel.Dispose();
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
