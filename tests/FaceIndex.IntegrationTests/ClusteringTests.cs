using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;

namespace FaceIndex.IntegrationTests;

/// <summary>Clustering as a server-side operation: start, poll, list, get, cancel; results survive a restart.</summary>
public sealed class ClusteringTests
{
    [Fact]
    public async Task Clustering_groups_the_samples_of_each_identity_and_survives_a_restart()
    {
        using var dir = TestPaths.NewTempDirectory();
        var identityOfFace = new Dictionary<ulong, int>();
        string operationId;
        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            var client = host.Client;
            await client.CreateCollectionAsync(new CreateCollectionRequest { Name = "album" });

            // Rows k + 10000·j of the synthetic set are ten samples of identity k (GENERATOR.md).
            for (int k = 0; k < 40; k++)
            {
                for (int j = 0; j < 10; j++)
                {
                    int row = k + (10_000 * j);
                    var reply = await client.EnrollAsync(new EnrollRequest
                    {
                        Collection = "album",
                        PersonId = $"photo-{row}",
                        Vector = new() { Data = ByteString.CopyFrom(LifecycleTests.SyntheticVector(row)) },
                    });
                    identityOfFace[reply.Faces[0].FaceId] = k;
                }
            }

            var missing = await Assert.ThrowsAsync<RpcException>(() => client.ListClustersAsync(new ListClustersRequest { Collection = "album" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, missing.StatusCode);

            var operation = await client.StartClusteringAsync(new StartClusteringRequest { Collection = "album" });
            Assert.Equal("clustering", operation.Kind);
            operationId = operation.Id;
            operation = await WaitAsync(client, operationId);
            Assert.Equal(OperationState.Succeeded, operation.State);
            Assert.Equal(1.0, operation.Progress);
            Assert.Equal(40, operation.ClusterCount);

            var page = await client.ListClustersAsync(new ListClustersRequest { Collection = "album", PageSize = 30 });
            Assert.Equal(operationId, page.OperationId);
            Assert.Equal(30, page.Clusters.Count);
            Assert.All(page.Clusters, c => Assert.Equal(10, c.Size));
            var rest = await client.ListClustersAsync(new ListClustersRequest { Collection = "album", PageSize = 30, PageToken = page.NextPageToken });
            Assert.Equal(10, rest.Clusters.Count);
            Assert.Equal("", rest.NextPageToken);
            Assert.Empty((await client.ListClustersAsync(new ListClustersRequest { Collection = "album", MinSize = 11 })).Clusters);

            // Each cluster is exactly one identity, and its representative is one of its members.
            for (int c = 0; c < 40; c++)
            {
                var cluster = await client.GetClusterAsync(new GetClusterRequest { Collection = "album", ClusterId = c });
                Assert.Single(cluster.FaceIds.Select(f => identityOfFace[f]).Distinct());
                Assert.Contains(cluster.Summary.RepresentativeFaceId, cluster.FaceIds);
            }

            var noCluster = await Assert.ThrowsAsync<RpcException>(() => client.GetClusterAsync(new GetClusterRequest { Collection = "album", ClusterId = 40 }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, noCluster.StatusCode);
            var noOperation = await Assert.ThrowsAsync<RpcException>(() => client.GetOperationAsync(new GetOperationRequest { Id = "nope" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, noOperation.StatusCode);
            var badThreshold = await Assert.ThrowsAsync<RpcException>(() => client.StartClusteringAsync(new StartClusteringRequest { Collection = "album", Threshold = 9f }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, badThreshold.StatusCode);

            var whispers = await WaitAsync(client, (await client.StartClusteringAsync(new StartClusteringRequest { Collection = "album", Algorithm = ClusteringAlgorithm.ChineseWhispers, Seed = 7 })).Id);
            Assert.Equal(OperationState.Succeeded, whispers.State);
            Assert.Equal(40, whispers.ClusterCount);
            operationId = whispers.Id;
        }

        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            var page = await host.Client.ListClustersAsync(new ListClustersRequest { Collection = "album" });
            Assert.Equal(operationId, page.OperationId);
            Assert.Equal(40, page.Clusters.Count);
            await host.Client.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "album" });
            await host.Client.CreateCollectionAsync(new CreateCollectionRequest { Name = "album" });
            var gone = await Assert.ThrowsAsync<RpcException>(() => host.Client.ListClustersAsync(new ListClustersRequest { Collection = "album" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        }
    }

    private static async Task<Operation> WaitAsync(Protocol.V1.FaceIndex.FaceIndexClient client, string id)
    {
        for (int i = 0; i < 600; i++)
        {
            var operation = await client.GetOperationAsync(new GetOperationRequest { Id = id });
            if (operation.State is OperationState.Succeeded or OperationState.Failed or OperationState.Cancelled)
            {
                Assert.True(operation.State == OperationState.Succeeded, operation.Error);
                return operation;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The clustering did not finish in 60 s.");
    }
}
