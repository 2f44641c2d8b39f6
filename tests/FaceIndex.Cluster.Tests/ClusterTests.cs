using System.Collections.Concurrent;
using FaceIndex.Core;
using FaceIndex.Engine;
using FaceIndex.Index;
using FaceIndex.Storage;
using FaceIndex.Testing;

namespace FaceIndex.Cluster.Tests;

/// <summary>Three silos in one process: sharding, replication, fan-out search, the loss and return of a node.</summary>
public sealed class ClusterTests
{
    private const string ModelVersion = "test-model-v1";

    [Fact]
    public async Task Search_results_are_those_of_one_node_holding_every_face()
    {
        await using var fixture = await ClusterFixture.StartAsync();
        using var single = TestPaths.NewTempDirectory();
        var storage = ClusterFixture.SmallStorage();
        storage.DataDirectory = single.Path;
        await using var database = await FaceDatabase.OpenAsync(storage, new IndexOptions(), new IndexingOptions(), ModelVersion);
        await database.CreateCollectionAsync("gallery");
        var (layout, created) = await fixture.Faces.CreateCollectionAsync("gallery", ModelVersion, shards: 3, replication: 2);
        Assert.True(created);
        Assert.All(layout.Shards, s => Assert.Equal(2, s.InSync.Count));
        Assert.All(layout.Shards, s => Assert.Equal(2, s.Replicas.Distinct().Count()));

        var random = new Random(7);
        var faces = new List<(string Person, FaceVector Vector)>();
        for (int p = 0; p < 60; p++)
        {
            for (int f = 0; f < 3; f++)
            {
                faces.Add(($"person-{p}", ClusterFixture.RandomFace(random)));
            }
        }

        await Parallel.ForEachAsync(faces, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (face, ct) =>
        {
            var result = await fixture.Faces.AddFacesAsync("gallery", Enroll(face.Person, face.Vector));
            Assert.Single(result.FaceIds);
            await database.AddFacesAsync("gallery", face.Person, [new NewFace(face.Vector, null, 0)], ModelVersion, null, null, ct);
        });

        var expected = new Neighbor[10];
        for (int q = 0; q < 25; q++)
        {
            var query = q % 2 == 0 ? faces[q * 7].Vector : ClusterFixture.RandomFace(random);
            var hits = await fixture.Faces.SearchAsync("gallery", query, 10);
            int count = database.Search("gallery", query, expected);
            Assert.Equal(count, hits.Count);
            var single1 = new List<(int, string)>();
            for (int i = 0; i < count; i++)
            {
                Assert.True(database.TryGetFacePerson("gallery", expected[i].Id, out var person));
                single1.Add((expected[i].Score, person));
            }

            // Same scores in the same order; same (score, person) pairs (ties may list differently).
            Assert.Equal(single1.Select(s => s.Item1), hits.Select(h => h.Score));
            Assert.Equal(single1.OrderBy(s => s.Item1).ThenBy(s => s.Item2, StringComparer.Ordinal), hits.Select(h => (h.Score, h.PersonId)).OrderBy(s => s.Score).ThenBy(s => s.PersonId, StringComparer.Ordinal));
        }

        var nodes = await fixture.Faces.GetNodesAsync();
        Assert.Equal(fixture.Cluster.Silos.Select(s => s.Name).Order(StringComparer.Ordinal), nodes.Select(n => n.Name));
        Assert.All(nodes, n => Assert.Equal("active", n.Status));

        var persons = await fixture.Faces.ListPersonsAsync("gallery", null, 1000);
        Assert.Equal(60, persons.Count);
        Assert.Equal(persons.Select(p => p.PersonId).Order(StringComparer.Ordinal), persons.Select(p => p.PersonId));
        var status = await fixture.Faces.GetStatusAsync("gallery");
        Assert.Equal(6, status.Count);
        Assert.All(status, r => Assert.Equal("in-sync", r.State));
        Assert.Equal(180, status.Where(r => r.Role == "primary").Sum(r => r.Faces));
        foreach (var group in status.GroupBy(r => r.Shard))
        {
            Assert.Single(group.Select(r => r.Faces).Distinct());
        }

        // A person's metadata is set on its shard (and replicated with the write); an unknown person is refused.
        Assert.True(await fixture.Faces.SetPersonMetadataAsync("gallery", "person-7", new Dictionary<string, string> { ["name"] = "Seven" }));
        var seven = await fixture.Faces.GetPersonAsync("gallery", "person-7");
        Assert.NotNull(seven);
        Assert.Equal("Seven", seven.Metadata["name"]);
        Assert.Equal(3, seven.FaceIds.Count);
        Assert.False(await fixture.Faces.SetPersonMetadataAsync("gallery", "nobody", new Dictionary<string, string> { ["a"] = "b" }));
    }

    [Fact]
    public async Task A_stopped_silo_loses_no_acknowledged_write_and_catches_up_when_it_returns()
    {
        await using var fixture = await ClusterFixture.StartAsync();
        await fixture.Faces.CreateCollectionAsync("site", ModelVersion, shards: 3, replication: 2);
        var acknowledged = new ConcurrentDictionary<long, (string Person, FaceVector Vector)>();
        var random = new Random(11);
        var vectors = Enumerable.Range(0, 400).Select(i => ($"p{i % 150}", ClusterFixture.RandomFace(random))).ToArray();
        int next = -1;
        using var stop = new CancellationTokenSource();

        async Task WriterAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                int i = Interlocked.Increment(ref next);
                if (i >= vectors.Length)
                {
                    return;
                }

                var (person, vector) = vectors[i];
                try
                {
                    var result = await fixture.Faces.AddFacesAsync("site", Enroll(person, vector));
                    acknowledged[result.FaceIds[0]] = (person, vector);
                }
                catch (ClusterUnavailableException)
                {
                    // Not acknowledged: the test makes no claim about it.
                }
            }
        }

        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(WriterAsync)).ToArray();
        while (Volatile.Read(ref next) < 120)
        {
            await Task.Delay(10);
        }

        var victim = fixture.Cluster.Silos[^1];
        var victimName = victim.Name;
        await fixture.Cluster.StopSiloAsync(victim);
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(acknowledged.Count >= 300, $"only {acknowledged.Count} writes acknowledged");

        // Every acknowledged face: on its person, and found first by its own code.
        foreach (var (faceId, (person, vector)) in acknowledged)
        {
            var stored = await fixture.Faces.GetPersonAsync("site", person);
            Assert.NotNull(stored);
            Assert.Contains(faceId, stored.FaceIds);
            var hits = await fixture.Faces.SearchAsync("site", vector, 3);
            Assert.Contains(hits, h => h.FaceId == faceId && h.Score == hits[0].Score);
        }

        var layouts = await fixture.Faces.GetLayoutAsync("site");
        Assert.All(layouts.Shards, s => Assert.NotEqual(victimName, s.Primary));
        Assert.Equal("dead", (await fixture.Faces.GetNodesAsync()).Single(n => n.Name == victimName).Status);
        Assert.Contains(await fixture.Faces.GetStatusAsync("site"), r => r.Node == victimName && r.State == "down");

        // The node returns: its replicas catch up and rejoin; every copy of a shard holds the same faces.
        var returned = await fixture.Cluster.StartSiloAsync(fixture.Cluster.Silos.Count, fixture.Cluster.Options);
        Assert.Equal(victimName, returned.Name);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        IReadOnlyList<ReplicaStatus> status;
        while (true)
        {
            status = await fixture.Faces.GetStatusAsync("site");
            bool settled = status.All(r => r.State == "in-sync" && r.Faces == r.Indexed + r.Pending)
                && status.GroupBy(r => r.Shard).All(g => g.Select(r => r.Faces).Distinct().Count() == 1);
            if (settled || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.All(status, r => Assert.Equal("in-sync", r.State));
        Assert.All(await fixture.Faces.GetNodesAsync(), n => Assert.Equal("active", n.Status));
        foreach (var group in status.GroupBy(r => r.Shard))
        {
            Assert.Single(group.Select(r => r.Faces).Distinct());
            Assert.All(group, r => Assert.Equal(r.Faces, r.Indexed + r.Pending));
        }

        // Every acknowledged face is stored (checked one by one above); a write that failed over while in
        // flight may be stored as well, once more when its retry also succeeded (no content hash here).
        long storedFaces = status.Where(r => r.Role == "primary").Sum(r => r.Faces);
        Assert.InRange(storedFaces, acknowledged.Count, vectors.Length + 16);
    }

    private static ShardAddFaces Enroll(string person, FaceVector vector) => new()
    {
        PersonId = person,
        Faces = [new ShardNewFace { Vector = vector.ToArray() }],
        ModelVersion = ModelVersion,
    };
}
