using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Grpc.Core;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// A collection is created with an embedding model: images enrolled into it and searched in it are embedded
/// with that model (the dlib ResNet, or both networks for the fused model, whose faces hold two codes and
/// whose search re-ranks by the fused distance); Stats names it; the store keeps it across a restart.
/// </summary>
public sealed class CollectionModelTests
{
    [Fact]
    public async Task Each_collection_embeds_with_its_own_model_and_keeps_it_across_a_restart()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            var client = host.Client;
            var dlib = await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "fast", Model = "dlib128-v1" });
            var fused = await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "fused", Model = "fused-v1" });
            var plain = await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "plain" });
            Assert.Equal(("dlib128-v1", "fused-v1", "fr512-pca128-v1"), (dlib.ModelVersion, fused.ModelVersion, plain.ModelVersion));

            foreach (var collection in new[] { "fast", "fused", "plain" })
            {
                await client.EnrollAsync(Deepface.Enroll("p-16-17", "img16.jpg", collection));
                await client.EnrollAsync(Deepface.Enroll("p-24-25", "img24.jpg", collection));
            }

            var enrolled = await client.GetPersonAsync(new GetPersonRequest { Collection = "fast", PersonId = "p-16-17" });
            Assert.Equal("dlib128-v1", enrolled.Faces[0].ModelVersion);

            foreach (var collection in new[] { "fast", "fused", "plain" })
            {
                var reply = await client.SearchAsync(new SearchRequest { Collection = collection, Image = Deepface.Bytes("img17.jpg") });
                var face = Assert.Single(reply.Faces);
                Assert.False(face.Unknown, $"{collection}: img17 unknown at {reply.Threshold}");
                Assert.Equal("p-16-17", face.Matches[0].PersonId);
                Assert.Single(face.Matches);

                var stranger = await client.SearchAsync(new SearchRequest { Collection = collection, Image = Deepface.Stranger("AJ_Cook") });
                Assert.True(stranger.Faces[0].Unknown, $"{collection}: a stranger matched at {stranger.Threshold}");

                var stats = await client.StatsAsync(new StatsRequest { Collection = collection });
                Assert.Equal(collection switch { "fast" => "dlib128-v1", "fused" => "fused-v1", _ => "fr512-pca128-v1" }, stats.ModelVersion);

                // The FPIR calibration was measured for fr512 (the manifest) and dlib128 (models.json): the fused model
                // searches at its own fixed threshold.
                var row = Assert.Single(stats.CollectionSearch);
                Assert.Equal(reply.Threshold, row.SearchThreshold);
                Assert.Equal(collection == "fused" ? 0 : 0.01, reply.Fpir, 9);
                Assert.Equal(reply.Fpir, row.SearchFpir, 9);
                Assert.Equal(0.3f, reply.MinQuality);
                Assert.True(face.Quality.Score >= 0.3f, $"{collection}: quality {face.Quality}");
                if (collection == "fast")
                {
                    // dlib's own grid: FPIR 1 % for a gallery of at most 10 persons.
                    Assert.Equal(0.140f, reply.Threshold, 3);
                    var stricter = await client.SearchAsync(new SearchRequest { Collection = collection, Image = Deepface.Bytes("img17.jpg"), Fpir = 0.003 });
                    Assert.Equal(0.128f, stricter.Threshold, 3);
                }

                if (collection == "fused")
                {
                    var refused = await Assert.ThrowsAsync<RpcException>(() => client.SearchAsync(new SearchRequest { Collection = collection, Image = Deepface.Bytes("img17.jpg"), Fpir = 0.01 }).ResponseAsync);
                    Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
                    Assert.Contains("pass a threshold instead", refused.Status.Detail, StringComparison.Ordinal);
                }
            }

            // A vector of another model is refused; a fused collection takes images only.
            var unit = new byte[128];
            unit[0] = 127;
            var vector = new FaceVector { Data = Google.Protobuf.ByteString.CopyFrom(unit), ModelVersion = "fr512-pca128-v1" };
            var mismatch = await Assert.ThrowsAsync<RpcException>(() => client.EnrollAsync(new EnrollRequest { Collection = "fast", PersonId = "x", Vector = vector }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, mismatch.StatusCode);
            var fusedVector = await Assert.ThrowsAsync<RpcException>(() => client.SearchAsync(new SearchRequest { Collection = "fused", Vector = new FaceVector { Data = vector.Data } }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, fusedVector.StatusCode);
            Assert.Contains("two codes per face", fusedVector.Status.Detail, StringComparison.Ordinal);

            var unknown = await Assert.ThrowsAsync<RpcException>(() => client.CreateCollectionAsync(new CreateCollectionRequest { Name = "x", Model = "arcface-r100" }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
            Assert.Contains("dlib128-v1", unknown.Status.Detail, StringComparison.Ordinal);
        }

        // After a restart the collections keep their models and the fused faces their second codes.
        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            var reply = await host.Client.SearchAsync(new SearchRequest { Collection = "fused", Image = Deepface.Bytes("img25.jpg") });
            Assert.Equal("p-24-25", reply.Faces[0].Matches[0].PersonId);
            var verify = await host.Client.VerifyAsync(new VerifyRequest { Collection = "fast", ImageA = Deepface.Bytes("img17.jpg"), PersonId = "p-16-17" });
            Assert.True(verify.Same, $"distance {verify.Distance}, threshold {verify.Threshold}");
        }
    }
}
