using System.Diagnostics;
using System.Globalization;
using FaceIndex.Benchmarks.Vision;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using HdrHistogram;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Benchmarks.Server;

/// <summary>
/// <c>soak [--minutes 10] [--clients 4] [--warmup 2] [--preload 20000] [--memory-budget-mib 32] [--bound-mib 64] [--bound-percent 10]</c>:
/// the real <c>faceindex serve</c> as a child process on loopback, under a mixed load from several
/// clients for a fixed time (search by vector 55 %, enrol by vector 20 %, delete of an own earlier face
/// 20 %, search by image 4 %, enrol by image 1 %: the store and the graph stay the same size, so memory
/// has no reason to grow). Prints throughput and p50/p99/max latency per operation, the server's RSS at
/// start, after warm-up and at the end (sampled every 5 s), and the verdict: the mean RSS of the last
/// minute at most max(bound-mib, bound-percent % of the warm-up RSS) above the mean of the first
/// minute after warm-up, and no failed call.
/// </summary>
internal static class SoakCommand
{
    private static readonly string[] s_operations = ["search", "enrol", "delete", "search-image", "enrol-image"];

    public static int Run(string[] args)
    {
        var options = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["--minutes"] = 10,
            ["--clients"] = 4,
            ["--warmup"] = 2,
            ["--preload"] = 20_000,
            ["--memory-budget-mib"] = 32,
            ["--bound-mib"] = 64,
            ["--bound-percent"] = 10,
        };
        for (int i = 0; i < args.Length; i++)
        {
            if (!options.ContainsKey(args[i]) || i + 1 >= args.Length || !double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value))
            {
                Console.Error.WriteLine("usage: soak [--minutes 10] [--clients 4] [--warmup 2] [--preload 20000] [--memory-budget-mib 32] [--bound-mib 64] [--bound-percent 10]");
                return 2;
            }

            options[args[i++]] = value;
        }

        return RunAsync(options).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(Dictionary<string, double> o)
    {
        var total = TimeSpan.FromMinutes(o["--minutes"]);
        var warmup = TimeSpan.FromMinutes(Math.Min(o["--warmup"], o["--minutes"] / 2));
        int clients = (int)o["--clients"];
        int preload = (int)o["--preload"];
        long budget = (long)o["--memory-budget-mib"] << 20;
        Console.WriteLine($"soak --minutes {total.TotalMinutes} --clients {clients} --warmup {warmup.TotalMinutes} --preload {preload} --memory-budget-mib {budget >> 20}; {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var work = Path.Combine(Path.GetTempPath(), "faceindex-soak-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        var images = BenchImages.Load(BenchImages.Deepface).Select(i => ByteString.CopyFrom(i.Bytes)).ToArray();
        string[] settings =
        [
            "--Storage:MemoryBudgetBytes=" + budget,
            "--Logging:LogLevel:Default=Warning",
        ];
        var server = await ServerProcess.StartAsync(Path.Combine(work, "data"), BenchImages.Models, Path.Combine(work, "server.log"), settings, TimeSpan.FromMinutes(2));
        try
        {
            var client = server.Client;
            var model = (await client.StatsAsync(new StatsRequest())).ModelVersion;
            var preloadClock = Stopwatch.StartNew();
            await PreloadAsync(client, model, preload);
            Console.WriteLine($"preloaded {preload:N0} faces in {preloadClock.Elapsed.TotalSeconds:F1} s; server RSS {Mib(server.ResidentBytes())} MiB");

            var samples = new List<(TimeSpan At, long Rss)>();
            var histograms = s_operations.Select(_ => new LongHistogram(TimeStamp.Minutes(1), 3)).ToArray();
            var warmHistograms = s_operations.Select(_ => new LongHistogram(TimeStamp.Minutes(1), 3)).ToArray();
            long failures = 0;
            string? firstFailure = null;
            var clock = Stopwatch.StartNew();
            bool warm = false;
            using var stop = new CancellationTokenSource(total);
            var loads = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                var random = new Random(1000 + c);
                var own = new Queue<long>();
                var person = $"soak-{c}";
                while (!stop.IsCancellationRequested)
                {
                    int roll = random.Next(100);
                    int op = roll < 55 ? 0 : roll < 75 ? 1 : roll < 95 ? 2 : roll < 99 ? 3 : 4;
                    if (op == 2 && own.Count < 64)
                    {
                        op = 1;
                    }

                    long started = Stopwatch.GetTimestamp();
                    try
                    {
                        await RunOperationAsync(client, model, images, random, op, own, person);
                    }
                    catch (RpcException ex) when (!(ex.StatusCode == StatusCode.InvalidArgument && op >= 3))
                    {
                        Interlocked.Increment(ref failures);
                        Interlocked.CompareExchange(ref firstFailure, $"{s_operations[op]}: {ex.Status}", null);
                        continue;
                    }
                    catch (RpcException)
                    {
                        // An image without a usable face: refused, as it should be (counted with its operation).
                    }

                    long micros = (Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency;
                    var target = Volatile.Read(ref warm) ? warmHistograms : histograms;
                    lock (target[op])
                    {
                        target[op].RecordValue(Math.Max(1, micros));
                    }
                }
            })).ToArray();

            long startRss = server.ResidentBytes();
            long warmRss = 0;
            samples.Add((TimeSpan.Zero, startRss));
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), stop.Token);
                }
                catch (OperationCanceledException)
                {
                }

                long rss = server.ResidentBytes();
                samples.Add((clock.Elapsed, rss));
                if (!warm && clock.Elapsed >= warmup)
                {
                    warmRss = rss;
                    Volatile.Write(ref warm, true);
                    Console.WriteLine($"warm-up done at {clock.Elapsed.TotalMinutes:F1} min; RSS {Mib(rss)} MiB");
                }
            }

            await Task.WhenAll(loads);
            var elapsed = clock.Elapsed;
            long endRss = server.ResidentBytes();
            var stats = await client.StatsAsync(new StatsRequest());
            var measured = elapsed - warmup;

            Console.WriteLine();
            Console.WriteLine($"after warm-up ({measured.TotalMinutes:F1} min measured, {clients} clients):");
            Console.WriteLine("| operation | calls | per s | p50 ms | p99 ms | max ms |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            long calls = 0;
            for (int op = 0; op < s_operations.Length; op++)
            {
                var h = warmHistograms[op];
                calls += h.TotalCount;
                Console.WriteLine($"| {s_operations[op]} | {h.TotalCount:N0} | {h.TotalCount / measured.TotalSeconds:F0} | {Ms(h, 50)} | {Ms(h, 99)} | {h.GetMaxValue() / 1000.0:F1} |");
            }

            Console.WriteLine($"| all | {calls:N0} | {calls / measured.TotalSeconds:F0} | | | |");
            Console.WriteLine();
            long maxRss = samples.Max(s => s.Rss);
            long bound = Math.Max((long)o["--bound-mib"] << 20, (long)(warmRss * o["--bound-percent"] / 100));
            // The GC and the allocator breathe by a hundred MiB: compare the mean of the first minute
            // after warm-up with the mean of the last minute, not two single samples.
            var window = TimeSpan.FromMinutes(Math.Min(1, measured.TotalMinutes / 3));
            var after = samples.Where(x => x.At >= warmup && x.At < warmup + window).Select(x => x.Rss).DefaultIfEmpty(warmRss).Average();
            var last = samples.Where(x => x.At >= elapsed - window).Select(x => x.Rss).DefaultIfEmpty(endRss).Average();
            long growth = (long)(last - after);
            Console.WriteLine($"server RSS: start {Mib(startRss)} MiB, after warm-up {Mib(warmRss)} MiB, end {Mib(endRss)} MiB, max {Mib(maxRss)} MiB");
            Console.WriteLine($"mean RSS over {window.TotalMinutes:F1} min: just after warm-up {Mib((long)after)} MiB, at the end {Mib((long)last)} MiB; growth {Mib(growth)} MiB (bound {Mib(bound)} MiB)");
            Console.WriteLine($"RSS every minute (MiB): {string.Join(' ', samples.Where((s, i) => i % 12 == 0).Select(s => Mib(s.Rss)))}");
            Console.WriteLine($"faces at end {stats.Faces:N0} (indexed {stats.IndexedFaces:N0}, pending {stats.PendingFaces:N0}); failed calls {failures}{(firstFailure is null ? "" : " (first: " + firstFailure + ")")}");
            bool passed = growth <= bound && failures == 0 && !server.HasExited;
            Console.WriteLine(passed ? "verdict: PASS (memory flat after warm-up, no failed call)" : "verdict: FAIL");
            await server.StopAsync(TimeSpan.FromSeconds(60));
            return passed ? 0 : 1;
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task RunOperationAsync(V1.FaceIndex.FaceIndexClient client, string model, ByteString[] images, Random random, int op, Queue<long> own, string person)
    {
        switch (op)
        {
            case 0:
                await client.SearchAsync(new SearchRequest { Vector = Vector(random, model), TopK = 10 });
                break;
            case 1:
                var reply = await client.EnrollAsync(new EnrollRequest { PersonId = person + "-" + random.Next(1000), Vector = Vector(random, model) });
                own.Enqueue((long)reply.Faces[0].FaceId);
                break;
            case 2:
                await client.DeleteFaceAsync(new DeleteFaceRequest { FaceId = (ulong)own.Dequeue() });
                break;
            case 3:
                await client.SearchAsync(new SearchRequest { Image = images[random.Next(images.Length)], TopK = 10 });
                break;
            default:
                // A fresh person each time: the same image for the same person would be an idempotent no-op.
                var faces = await client.EnrollAsync(new EnrollRequest { PersonId = $"{person}-img-{random.Next()}", Image = images[random.Next(images.Length)] });
                foreach (var face in faces.Faces)
                {
                    own.Enqueue((long)face.FaceId);
                }

                break;
        }
    }

    private static async Task PreloadAsync(V1.FaceIndex.FaceIndexClient client, string model, int count)
    {
        var random = new Random(7);
        using var call = client.EnrollStream();
        var reader = Task.Run(async () =>
        {
            int n = 0;
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
                n++;
            }

            return n;
        });
        for (int i = 0; i < count; i++)
        {
            await call.RequestStream.WriteAsync(new EnrollRequest { PersonId = "pre-" + (i / 4), Vector = Vector(random, model) });
        }

        await call.RequestStream.CompleteAsync();
        await reader;
    }

    private static V1.FaceVector Vector(Random random, string model) =>
        new() { Data = ByteString.CopyFrom(RandomVectors.Next(random).AsBytes()), ModelVersion = model };

    private static string Ms(LongHistogram h, double percentile) => h.TotalCount == 0 ? "-" : (h.GetValueAtPercentile(percentile) / 1000.0).ToString("F2", CultureInfo.InvariantCulture);

    private static long Mib(long bytes) => bytes >> 20;
}
