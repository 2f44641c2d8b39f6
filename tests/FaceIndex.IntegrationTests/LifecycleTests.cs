using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;

namespace FaceIndex.IntegrationTests;

/// <summary>Delete, restart and concurrency against a server of each test's own.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task A_deleted_face_or_person_is_gone_from_search_and_get()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartAsync(dir.Path);
        var client = host.Client;
        var first = (await client.EnrollAsync(Deepface.Enroll("p-8-9", "img8.jpg"))).Faces[0];
        var other = (await client.EnrollAsync(Deepface.Enroll("p-16-17", "img16.jpg"))).Faces[0];
        Assert.Equal("p-8-9", (await client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img9.jpg") })).Faces[0].Matches[0].PersonId);

        var deleted = await client.DeleteFaceAsync(new DeleteFaceRequest { FaceId = first.FaceId });
        Assert.Equal("p-8-9", deleted.PersonId);
        var after = await client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img9.jpg"), Threshold = 4f, TopK = 10 });
        Assert.DoesNotContain(after.Faces[0].Matches, m => m.FaceId == first.FaceId);
        // The person stays (with its metadata), without the face.
        Assert.Empty((await client.GetPersonAsync(new GetPersonRequest { PersonId = "p-8-9" })).Faces);

        var gone = await client.DeletePersonAsync(new DeletePersonRequest { PersonId = "p-16-17" });
        Assert.Equal([other.FaceId], gone.DeletedFaceIds);
        var person = await Assert.ThrowsAsync<RpcException>(() => client.GetPersonAsync(new GetPersonRequest { PersonId = "p-16-17" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, person.StatusCode);
        var empty = await client.SearchAsync(new SearchRequest { Image = Deepface.Bytes("img17.jpg"), Threshold = 4f });
        Assert.Empty(empty.Faces[0].Matches);
        Assert.True(empty.Faces[0].Unknown);
    }

    [Fact]
    public async Task After_a_restart_on_the_same_data_directory_everything_is_there_and_searchable()
    {
        using var dir = TestPaths.NewTempDirectory();
        var enrolled = new Dictionary<string, ulong>();
        ulong deletedFace;
        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            await host.Client.CreateCollectionAsync(new CreateCollectionRequest { Name = "lobby" });
            foreach (var (person, files) in Deepface.People)
            {
                var reply = await host.Client.EnrollAsync(Deepface.Enroll(person, files[0], "lobby"));
                enrolled[person] = reply.Faces[0].FaceId;
            }

            var vector = new EnrollRequest { Collection = "lobby", PersonId = "by-vector", Vector = new() { Data = ByteString.CopyFrom(BadInputTests.ValidVector()), ModelVersion = TestPaths.ModelVersion } };
            deletedFace = (await host.Client.EnrollAsync(vector)).Faces[0].FaceId;
            await host.Client.DeleteFaceAsync(new DeleteFaceRequest { Collection = "lobby", FaceId = deletedFace });
        }

        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            var collections = await host.Client.ListCollectionsAsync(new ListCollectionsRequest());
            var lobby = Assert.Single(collections.Collections, c => c.Name == "lobby");
            Assert.Equal(Deepface.People.Count, lobby.FaceCount);
            foreach (var (person, files) in Deepface.People)
            {
                var reply = await host.Client.SearchAsync(new SearchRequest { Collection = "lobby", Image = Deepface.Bytes(files[^1]), Threshold = 4f });
                Assert.Equal(person, reply.Faces[0].Matches[0].PersonId);
                Assert.Equal(enrolled[person], reply.Faces[0].Matches[0].FaceId);
            }

            var stats = await host.Client.StatsAsync(new StatsRequest { Collection = "lobby" });
            Assert.Equal(Deepface.People.Count, stats.Faces);
            Assert.NotNull(stats.LastCheckpoint);
            var byVector = await host.Client.GetPersonAsync(new GetPersonRequest { Collection = "lobby", PersonId = "by-vector" });
            Assert.Empty(byVector.Faces);
        }
    }

    [Fact]
    public async Task Concurrent_enrols_and_searches_all_succeed_and_agree()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartAsync(dir.Path);
        var client = host.Client;
        var people = Deepface.People.ToList();
        var enrols = people.Select(p => client.EnrollAsync(Deepface.Enroll(p.Key, p.Value[0])).ResponseAsync).ToList();
        var vectors = Enumerable.Range(0, 200).Select(i => client.EnrollAsync(new EnrollRequest
        {
            PersonId = "synthetic-" + i,
            Vector = new() { Data = ByteString.CopyFrom(SyntheticVector(i)), ModelVersion = TestPaths.ModelVersion },
        }).ResponseAsync).ToList();
        var searches = Enumerable.Range(0, 40).Select(i => client.SearchAsync(new SearchRequest
        {
            Vector = new() { Data = ByteString.CopyFrom(SyntheticVector(i)), ModelVersion = TestPaths.ModelVersion },
        }).ResponseAsync).ToList();
        await Task.WhenAll(enrols);
        await Task.WhenAll(vectors);
        await Task.WhenAll(searches);

        // Every acknowledged vector is its own best match now.
        for (int i = 0; i < 200; i += 7)
        {
            var reply = await client.SearchAsync(new SearchRequest { Vector = new() { Data = ByteString.CopyFrom(SyntheticVector(i)), ModelVersion = TestPaths.ModelVersion } });
            Assert.Equal("synthetic-" + i, reply.Faces[0].Matches[0].PersonId);
        }

        foreach (var (person, files) in people)
        {
            var reply = await client.SearchAsync(new SearchRequest { Image = Deepface.Bytes(files[^1]), Threshold = 4f });
            Assert.Equal(person, reply.Faces[0].Matches[0].PersonId);
        }
    }

    [Fact]
    public async Task EnrollStream_answers_every_item_in_order_and_a_bad_item_does_not_end_the_stream()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartAsync(dir.Path);
        using var call = host.Client.EnrollStream();
        var items = new List<EnrollRequest>();
        for (int i = 0; i < 300; i++)
        {
            items.Add(new EnrollRequest { PersonId = "s" + i, ClientRef = "ref-" + i, Vector = new() { Data = ByteString.CopyFrom(SyntheticVector(i)), ModelVersion = TestPaths.ModelVersion } });
        }

        items.Insert(10, new EnrollRequest { PersonId = "bad", ClientRef = "bad-length", Vector = new() { Data = ByteString.CopyFrom(new byte[3]), ModelVersion = TestPaths.ModelVersion } });
        items.Insert(20, new EnrollRequest { PersonId = "img", ClientRef = "image", Image = Deepface.Bytes("img8.jpg") });
        items.Insert(30, new EnrollRequest { PersonId = "nowhere", ClientRef = "missing-collection", Collection = "absent", Image = Deepface.Bytes("img8.jpg") });
        var reading = Task.Run(async () =>
        {
            var results = new List<EnrollStreamResult>();
            await foreach (var result in call.ResponseStream.ReadAllAsync())
            {
                results.Add(result);
            }

            return results;
        });
        foreach (var item in items)
        {
            await call.RequestStream.WriteAsync(item);
        }

        await call.RequestStream.CompleteAsync();
        var results = await reading;
        Assert.Equal(items.Count, results.Count);
        Assert.Equal(Enumerable.Range(0, items.Count), results.Select(r => r.Index));
        Assert.Equal(items.Select(i => i.ClientRef), results.Select(r => r.ClientRef));
        Assert.Equal((int)StatusCode.InvalidArgument, results[10].Error.Code);
        Assert.Equal("INVALID_VECTOR", results[10].Error.Reason);
        Assert.Single(results[20].Response.Faces);
        Assert.Equal((int)StatusCode.NotFound, results[30].Error.Code);
        Assert.Equal(300 + 1, results.Count(r => r.OutcomeCase == EnrollStreamResult.OutcomeOneofCase.Response));
        var stats = await host.Client.StatsAsync(new StatsRequest());
        Assert.Equal(301, stats.Faces);
    }

    /// <summary>A valid code per index: base rows of the synthetic set, one identity each.</summary>
    internal static byte[] SyntheticVector(int i)
    {
        var x = new float[FaceIndex.Core.FaceVector.Dimensions];
        FaceIndex.Testing.SyntheticFaces.BaseRow(i, x);
        return FaceIndex.Core.Quantizer.Quantize(x).ToArray();
    }
}
