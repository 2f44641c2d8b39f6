using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Cluster.Tests;

/// <summary>
/// The cluster as it runs: redis-server and three <c>faceindex serve --cluster</c> processes on
/// loopback, clients enrolling through every node, one node killed with SIGKILL at a random moment; then
/// Verify and EnrollStream through a node other than the one that enrolled.
/// </summary>
public sealed class ProcessClusterTests(ITestOutputHelper output)
{
    private const int Clients = 3;
    private const int AttemptsPerClient = 100;

    [Fact]
    public async Task A_node_killed_while_clients_enrol_loses_no_acknowledged_face_and_catches_up_after_a_restart()
    {
        var clock = Stopwatch.StartNew();
        using var temp = TestPaths.NewTempDirectory();
        await using var redis = await RedisServer.StartAsync(temp.Path);
        int seed = Environment.TickCount;
        var random = new Random(seed);
        output.WriteLine($"seed {seed}, redis on {redis.ConnectionString}, data in {temp.Path}");
        var cluster = new NodeSet(temp.Path, redis.ConnectionString, "t" + seed.ToString("x", CultureInfo.InvariantCulture));
        try
        {
            await cluster.StartAllAsync();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: three nodes serving");
            var stats = await cluster.Any.Client.StatsAsync(new V1.StatsRequest());
            string model = stats.ModelVersion;
            await cluster.Any.Client.CreateCollectionAsync(new V1.CreateCollectionRequest { Name = "site", Shards = 3, Replication = 2 }, deadline: DateTime.UtcNow.AddSeconds(60));

            // Clients enrol through every node; one node is killed after a random number of acknowledgements.
            var acknowledged = new ConcurrentDictionary<ulong, (string Person, byte[] Vector)>();
            var vectors = new byte[Clients * AttemptsPerClient][];
            for (int i = 0; i < vectors.Length; i++)
            {
                vectors[i] = ClusterFixture.RandomFace(random).ToArray();
            }

            int victim = random.Next(3);
            int killAfter = random.Next(40, 180);
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            async Task ClientAsync(int client)
            {
                int node = client;
                for (int attempt = 0; attempt < AttemptsPerClient; attempt++)
                {
                    int index = (client * AttemptsPerClient) + attempt;
                    var person = $"c{client}-p{attempt % 40}";
                    var request = new V1.EnrollRequest
                    {
                        Collection = "site",
                        PersonId = person,
                        Vector = new V1.FaceVector { Data = ByteString.CopyFrom(vectors[index]), ModelVersion = model },
                    };
                    try
                    {
                        var reply = await cluster.Node(node).Client.EnrollAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
                        acknowledged[reply.Faces[0].FaceId] = (person, vectors[index]);
                    }
                    catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Cancelled)
                    {
                        // Not acknowledged: the test makes no claim about it. The next attempt goes to another node.
                        node = cluster.NextLive(node);
                    }

                    if (acknowledged.Count >= killAfter && killed.TrySetResult())
                    {
                        cluster.Kill(victim);
                        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: SIGKILL n{victim} after {acknowledged.Count} acknowledged writes");
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(c)))).WaitAsync(TimeSpan.FromSeconds(300));
            Assert.True(killed.Task.IsCompleted, $"only {acknowledged.Count} writes were acknowledged before the end; the kill never came");
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {acknowledged.Count} of {vectors.Length} writes acknowledged");
            Assert.True(acknowledged.Count >= vectors.Length / 2, $"only {acknowledged.Count} of {vectors.Length} writes acknowledged");

            // With the node dead: every acknowledged face is on its person and found first by its own code.
            foreach (var (faceId, (person, vector)) in acknowledged)
            {
                var reader = cluster.Node(cluster.NextLive(victim));
                var found = await RetryWhileUnavailableAsync(() => reader.Client.GetPersonAsync(new V1.GetPersonRequest { Collection = "site", PersonId = person }).ResponseAsync);
                Assert.Contains(found.Faces, f => f.FaceId == faceId);
                var search = await RetryWhileUnavailableAsync(() => reader.Client.SearchAsync(new V1.SearchRequest
                {
                    Collection = "site",
                    Vector = new V1.FaceVector { Data = ByteString.CopyFrom(vector), ModelVersion = model },
                    TopK = 3,
                    Threshold = 4,
                }).ResponseAsync);
                var matches = search.Faces[0].Matches;
                Assert.Contains(matches, m => m.FaceId == faceId && m.Distance == matches[0].Distance);
            }

            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: every acknowledged face found with n{victim} dead");

            // The node returns under its name on its data: its replicas catch up and every copy holds the same faces, all indexed.
            await cluster.StartAsync(victim);
            V1.StatsResponse settled = await WaitSettledAsync(cluster, TimeSpan.FromSeconds(180));
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: n{victim} restarted and caught up");
            Assert.Equal(["n0", "n1", "n2"], settled.Cluster.Nodes.Select(n => n.Name));
            Assert.All(settled.Cluster.Nodes, n => Assert.Equal("active", n.Status));
            Assert.Equal(6, settled.Cluster.Replicas.Count);
            foreach (var shard in settled.Cluster.Replicas.GroupBy(r => r.Shard))
            {
                Assert.Single(shard, r => r.Role == "primary");
                Assert.Single(shard.Select(r => r.Faces).Distinct());
                Assert.All(shard, r => Assert.Equal(r.Faces, r.IndexedFaces + r.PendingFaces));
            }

            // Every acknowledged face is stored. A write that failed over in flight may be stored as well, and
            // twice when the primary committed it before dying and the front door's retry on the new primary
            // also succeeded (these requests carry no content hash, so nothing makes the retry idempotent):
            // 301 faces from 300 attempts in one local CI run. At most one extra copy per attempt.
            Assert.InRange(settled.Faces, acknowledged.Count, 2 * vectors.Length);

            // The restarted node serves searches of the whole collection too.
            foreach (var (faceId, (_, vector)) in acknowledged.Take(20))
            {
                var search = await cluster.Node(victim).Client.SearchAsync(new V1.SearchRequest
                {
                    Collection = "site",
                    Vector = new V1.FaceVector { Data = ByteString.CopyFrom(vector), ModelVersion = model },
                    TopK = 3,
                    Threshold = 4,
                });
                Assert.Contains(search.Faces[0].Matches, m => m.FaceId == faceId);
            }

            // UpdatePerson through one node, read back through another; a rename is refused with its reason.
            var someone = acknowledged.First().Value.Person;
            var updated = await cluster.Node(victim).Client.UpdatePersonAsync(new V1.UpdatePersonRequest { Collection = "site", PersonId = someone, Metadata = { ["name"] = "Someone" } });
            Assert.Equal("Someone", updated.Metadata["name"]);
            var readBack = await cluster.Node(cluster.NextLive(victim)).Client.GetPersonAsync(new V1.GetPersonRequest { Collection = "site", PersonId = someone });
            Assert.Equal("Someone", readBack.Metadata["name"]);
            var rename = await Assert.ThrowsAsync<RpcException>(async () =>
                await cluster.Node(victim).Client.UpdatePersonAsync(new V1.UpdatePersonRequest { Collection = "site", PersonId = someone, NewPersonId = someone + "-renamed" }));
            Assert.Equal(StatusCode.FailedPrecondition, rename.StatusCode);

            // The operator's view: faceindex cluster-status against any node.
            var (exit, text) = await RunCliAsync("cluster-status", "--server", $"http://127.0.0.1:{cluster.Node(victim).Port}");
            output.WriteLine(text);
            Assert.Equal(0, exit);
            Assert.Contains("3 nodes (3 active)", text, StringComparison.Ordinal);
            Assert.Contains("6 replicas (6 in sync)", text, StringComparison.Ordinal);

            // Verify: an image against a person is compared on the person's shard, reached through any node.
            await cluster.Node(victim).Client.CreateCollectionAsync(new V1.CreateCollectionRequest { Name = "doors", Shards = 3, Replication = 2 }, deadline: DateTime.UtcNow.AddSeconds(60));
            var enrolled = await cluster.Node(victim).Client.EnrollAsync(new V1.EnrollRequest { Collection = "doors", PersonId = "p-16-17", Image = Face("img16.jpg") });
            var other = cluster.Node(cluster.NextLive(victim)).Client;
            var same = await other.VerifyAsync(new V1.VerifyRequest { Collection = "doors", ImageA = Face("img17.jpg"), PersonId = "p-16-17" });
            Assert.True(same.Same, $"distance {same.Distance} over {same.Threshold}");
            Assert.Equal(enrolled.Faces[0].FaceId, same.ClosestFaceId);
            var stranger = await other.VerifyAsync(new V1.VerifyRequest { Collection = "doors", ImageA = Face("img13.jpg"), PersonId = "p-16-17" });
            Assert.False(stranger.Same, $"distance {stranger.Distance} under {stranger.Threshold}");
            var pair = await other.VerifyAsync(new V1.VerifyRequest { Collection = "doors", ImageA = Face("img17.jpg"), ImageB = Face("img16.jpg") });
            Assert.True(pair.Same);
            Assert.Equal(same.Distance, pair.Distance, 3);
            var nobody = await Assert.ThrowsAsync<RpcException>(async () => await other.VerifyAsync(new V1.VerifyRequest { Collection = "doors", ImageA = Face("img17.jpg"), PersonId = "nobody" }));
            Assert.Equal(StatusCode.NotFound, nobody.StatusCode);
            // EnrollStream through a node (what faceindex import uses): one result per request in order, a bad
            // request answered by its own error; the streamed faces are found by their codes.
            using (var call = other.EnrollStream())
            {
                var streamed = new List<byte[]>();
                for (int i = 0; i < 40; i++)
                {
                    streamed.Add(ClusterFixture.RandomFace(random).ToArray());
                    await call.RequestStream.WriteAsync(new V1.EnrollRequest { Collection = "doors", PersonId = $"s{i % 8}", ClientRef = $"r{i}", Vector = new V1.FaceVector { Data = ByteString.CopyFrom(streamed[i]), ModelVersion = model } });
                }

                await call.RequestStream.WriteAsync(new V1.EnrollRequest { Collection = "doors", PersonId = "bad", ClientRef = "bad", Vector = new V1.FaceVector { Data = ByteString.CopyFrom(new byte[3]) } });
                await call.RequestStream.CompleteAsync();
                var results = new List<V1.EnrollStreamResult>();
                await foreach (var result in call.ResponseStream.ReadAllAsync())
                {
                    results.Add(result);
                }

                Assert.Equal(Enumerable.Range(0, 41), results.Select(r => r.Index));
                Assert.All(results.Take(40), r => Assert.Single(r.Response.Faces));
                Assert.Equal(("bad", (int)StatusCode.InvalidArgument), (results[40].ClientRef, results[40].Error.Code));
                foreach (int i in new[] { 0, 17, 39 })
                {
                    var hit = await cluster.Node(victim).Client.SearchAsync(new V1.SearchRequest { Collection = "doors", Vector = new V1.FaceVector { Data = ByteString.CopyFrom(streamed[i]), ModelVersion = model }, TopK = 1, Threshold = 4 });
                    Assert.Equal(results[i].Response.Faces[0].FaceId, hit.Faces[0].Matches[0].FaceId);
                }
            }

            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: done");
        }
        catch
        {
            foreach (var log in cluster.LogPaths)
            {
                output.WriteLine($"---- {Path.GetFileName(log)}");
                output.WriteLine(Tail(log, 40));
            }

            throw;
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static ByteString Face(string file) => ByteString.CopyFrom(File.ReadAllBytes(TestPaths.Faces("deepface", file)));

    /// <summary>Polls Stats until every node is active and every replica is in sync with index = store; fails with the last answer at the deadline.</summary>
    private static async Task<V1.StatsResponse> WaitSettledAsync(NodeSet cluster, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        V1.StatsResponse? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await cluster.Any.Client.StatsAsync(new V1.StatsRequest { Collection = "site" }, deadline: DateTime.UtcNow.AddSeconds(10));
                var status = last.Cluster;
                if (status.Nodes.Count == 3 && status.Nodes.All(n => n.Status == "active")
                    && status.Replicas.All(r => r.State == "in-sync" && r.Faces == r.IndexedFaces + r.PendingFaces)
                    && status.Replicas.GroupBy(r => r.Shard).All(g => g.Select(r => r.Faces).Distinct().Count() == 1))
                {
                    return last;
                }
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                // A node still joining.
            }

            await Task.Delay(500);
        }

        throw new Xunit.Sdk.XunitException($"The cluster did not settle within {timeout.TotalSeconds:0} s; last status:\n{last?.Cluster}");
    }

    /// <summary>Retries a read while the cluster answers Unavailable (a failover in progress), for at most 20 s.</summary>
    private static async Task<T> RetryWhileUnavailableAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    private static async Task<(int Exit, string Output)> RunCliAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(ServerProcess.CliPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["COLUMNS"] = "200";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string Tail(string path, int lines)
    {
        if (!File.Exists(path))
        {
            return "(no log)";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var all = new StreamReader(stream).ReadToEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <summary>Three cluster nodes n0..n2, each a child process with its own data directory and log.</summary>
    private sealed class NodeSet(string root, string redis, string clusterId) : IAsyncDisposable
    {
        private readonly ServerProcess?[] _nodes = new ServerProcess?[3];
        private readonly bool[] _dead = new bool[3];

        public IEnumerable<string> LogPaths => Enumerable.Range(0, 3).Select(Log);

        public ServerProcess Any => Node(NextLive(-1));

        public ServerProcess Node(int index) => _nodes[index] ?? throw new InvalidOperationException($"n{index} is not running.");

        /// <summary>The next node after <paramref name="index"/> (cyclically) that was not killed.</summary>
        public int NextLive(int index)
        {
            for (int step = 1; step <= 3; step++)
            {
                int next = (index + step + 3) % 3;
                if (!Volatile.Read(ref _dead[next]))
                {
                    return next;
                }
            }

            throw new InvalidOperationException("No node is running.");
        }

        public Task StartAllAsync() => Task.WhenAll(Enumerable.Range(0, 3).Select(StartAsync));

        public async Task StartAsync(int index)
        {
            if (_nodes[index] is { } old)
            {
                _nodes[index] = null;
                await old.DisposeAsync();
            }

            var settings = new[]
            {
                "--Cluster:Enabled=true",
                "--Cluster:Redis=" + redis,
                "--Cluster:ClusterId=" + clusterId,
                "--Cluster:Node=n" + index.ToString(CultureInfo.InvariantCulture),
                "--Cluster:SiloPort=" + ServerPorts.Free().ToString(CultureInfo.InvariantCulture),
                "--Cluster:GatewayPort=" + ServerPorts.Free().ToString(CultureInfo.InvariantCulture),
                "--Cluster:ShipTimeout=00:00:05",
                "--Cluster:ReconcileInterval=00:00:00.500",
                "--Cluster:Membership:ProbeTimeout=00:00:01",
                "--Cluster:Membership:NumMissedProbesLimit=2",
                "--Cluster:Membership:NumVotesForDeathDeclaration=1",
                "--Cluster:Membership:TableRefreshTimeout=00:00:01",
                "--Storage:MemoryBudgetBytes=16777216",
                "--Storage:IndexBuckets=16384",
                "--Storage:SegmentSizeBytes=16777216",
                "--Storage:WalMemoryBytes=4194304",
                "--Logging:LogLevel:Default=Warning",
            };
            _nodes[index] = await ServerProcess.StartAsync(Path.Combine(root, "n" + index.ToString(CultureInfo.InvariantCulture)), TestPaths.Models, Log(index), settings, TimeSpan.FromSeconds(90));
            Volatile.Write(ref _dead[index], false);
        }

        /// <summary>SIGKILL: no drain, no snapshot, no checkpoint; membership finds it dead.</summary>
        public void Kill(int index)
        {
            Volatile.Write(ref _dead[index], true);
            Node(index).Kill();
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var node in _nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }
        }

        private string Log(int index) => Path.Combine(root, $"n{index}.log");
    }
}
