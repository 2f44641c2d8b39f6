using System.Diagnostics;
using System.Globalization;
using FaceIndex.Cluster;
using FaceIndex.Cluster.Tests;
using FaceIndex.Core;
using FaceIndex.Engine;
using FaceIndex.Index;
using FaceIndex.Storage;
using FaceIndex.Testing;
using HdrHistogram;

namespace FaceIndex.Benchmarks.ScaleOut;

/// <summary>
/// Cluster mode on loopback (silos in one process, talking over TCP on 127.0.0.1): search latency and
/// throughput on one node without Orleans, one silo and three silos; enrolment throughput with R = 1 and
/// R = 2; catch-up time of a node that missed a number of enrolments.
/// <c>scaleout [--faces N] [--queries Q] [--r2 E] [--missed M]</c>: N faces searched, E enrolled at R = 2
/// before a node stops, M enrolled while it is down.
/// </summary>
internal static class ScaleOutCommand
{
    private const string Model = "bench-v1";

    public static int Run(string[] args)
    {
        int faces = Arg(args, "--faces", 200_000);
        int queries = Arg(args, "--queries", 2_000);
        int r2 = Arg(args, "--r2", 20_000);
        int missed = Arg(args, "--missed", 100_000);
        RunAsync(faces, queries, r2, missed).GetAwaiter().GetResult();
        return 0;
    }

    private static async Task RunAsync(int faces, int queries, int r2Faces, int missed)
    {
        Console.WriteLine($"scaleout: {faces:N0} random faces, {queries:N0} queries (k = 10, default ef), R = 2: {r2Faces:N0} then {missed:N0} with a node down; {Environment.ProcessorCount} cores");
        var random = new Random(42);
        var vectors = new FaceVector[Math.Max(faces, r2Faces + missed)];
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] = RandomVectors.Next(random);
        }

        var queryVectors = Enumerable.Range(0, queries).Select(i => vectors[(i * 7919) % faces]).ToArray();

        // One node, no Orleans: the database itself.
        using (var dir = TestPaths.NewTempDirectory())
        {
            var storage = ClusterFixture.SmallStorage();
            storage.DataDirectory = dir.Path;
            storage.MemoryBudgetBytes = 256L << 20;
            await using var database = await FaceDatabase.OpenAsync(storage, new IndexOptions(), new IndexingOptions(), Model);
            var load = Stopwatch.StartNew();
            for (int start = 0; start < faces; start += 1000)
            {
                var batch = new List<AddFacesRequest>();
                for (int i = start; i < Math.Min(faces, start + 1000); i++)
                {
                    batch.Add(new AddFacesRequest(FaceDatabase.DefaultCollection, $"p{i}", [new NewFace(vectors[i], null, 0)], Model, null, null));
                }

                await database.AddFacesBatchAsync(batch);
            }

            await database.WaitForIndexingAsync();
            Console.WriteLine($"single node: loaded and indexed in {load.Elapsed.TotalSeconds:F1} s");
            var results = new Neighbor[10];
            await MeasureAsync("1 node, no Orleans", queries, q =>
            {
                database.Search(FaceDatabase.DefaultCollection, queryVectors[q], results);
                return Task.CompletedTask;
            });
        }

        foreach (int silos in new[] { 1, 3 })
        {
            await using var fixture = await ClusterFixture.StartAsync(silos);
            var cluster = fixture.Faces;
            await cluster.CreateCollectionAsync("bench", Model, shards: 3, replication: 1);
            var load = Stopwatch.StartNew();
            await EnrolAsync(cluster, "bench", vectors, 0, faces);
            Console.WriteLine($"{silos} silo(s), 3 shards, R = 1: enrolled {faces:N0} in {load.Elapsed.TotalSeconds:F1} s ({faces / load.Elapsed.TotalSeconds:N0} faces/s, 16 concurrent callers)");
            await WaitIndexedAsync(cluster, "bench");
            await MeasureAsync($"{silos} silo(s), 3 shards", queries, q => cluster.SearchAsync("bench", queryVectors[q], 10));
            if (silos == 3)
            {
                await cluster.CreateCollectionAsync("r2", Model, shards: 3, replication: 2);
                int n = r2Faces;
                var r2 = Stopwatch.StartNew();
                await EnrolAsync(cluster, "r2", vectors, 0, n);
                Console.WriteLine($"3 silos, 3 shards, R = 2: enrolled {n:N0} in {r2.Elapsed.TotalSeconds:F1} s ({n / r2.Elapsed.TotalSeconds:N0} faces/s)");

                // Catch-up: a node misses `missed` enrolments, then returns.
                var victim = fixture.Cluster.Silos[^1];
                string name = victim.Name;
                await fixture.Cluster.StopSiloAsync(victim);
                var missedWatch = Stopwatch.StartNew();
                await EnrolAsync(cluster, "r2", vectors, n, n + missed);
                Console.WriteLine($"enrolled {missed:N0} with '{name}' down in {missedWatch.Elapsed.TotalSeconds:F1} s ({missed / missedWatch.Elapsed.TotalSeconds:N0} faces/s, R = 2 with one copy in sync)");
                var catchUp = Stopwatch.StartNew();
                await fixture.Cluster.StartSiloAsync(fixture.Cluster.Silos.Count, fixture.Cluster.Options);
                while (true)
                {
                    var status = await cluster.GetStatusAsync("r2");
                    if (status.All(r => r.State == "in-sync"))
                    {
                        break;
                    }

                    await Task.Delay(100);
                }

                Console.WriteLine($"catch-up of '{name}' after missing {missed:N0} enrolments: {catchUp.Elapsed.TotalSeconds:F1} s to in sync (silo restart included)");
            }
        }
    }

    private static async Task EnrolAsync(FaceCluster cluster, string collection, FaceVector[] vectors, int from, int to)
    {
        int next = from - 1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < to)
            {
                await cluster.AddFacesAsync(collection, new ShardAddFaces
                {
                    PersonId = "p" + i.ToString(CultureInfo.InvariantCulture),
                    Faces = [new ShardNewFace { Vector = vectors[i].ToArray() }],
                    ModelVersion = Model,
                });
            }
        }));
    }

    private static async Task WaitIndexedAsync(FaceCluster cluster, string collection)
    {
        while ((await cluster.GetStatusAsync(collection)).Any(r => r.Pending > 0))
        {
            await Task.Delay(200);
        }
    }

    private static async Task MeasureAsync(string label, int queries, Func<int, Task> search)
    {
        for (int q = 0; q < Math.Min(200, queries); q++)
        {
            await search(q);
        }

        var histogram = new LongHistogram(TimeStamp.Minutes(1), 3);
        for (int q = 0; q < queries; q++)
        {
            long start = Stopwatch.GetTimestamp();
            await search(q);
            histogram.RecordValue(Stopwatch.GetTimestamp() - start);
        }

        var watch = Stopwatch.StartNew();
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int q;
            while ((q = Interlocked.Increment(ref next)) < queries)
            {
                await search(q);
            }
        }));
        double perSecond = queries / watch.Elapsed.TotalSeconds;
        double p50 = histogram.GetValueAtPercentile(50) * 1000.0 / Stopwatch.Frequency;
        double p99 = histogram.GetValueAtPercentile(99) * 1000.0 / Stopwatch.Frequency;
        Console.WriteLine($"{label,-24} search p50 {p50:F3} ms, p99 {p99:F3} ms (one caller); {perSecond:N0} searches/s (8 callers)");
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
