using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;
using Grpc.Core;

namespace FaceIndex.IntegrationTests;

/// <summary>Clustering as a server-side operation: start, poll, list, get, cancel; results and operation records survive a restart.</summary>
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
                        Vector = new() { Data = ByteString.CopyFrom(LifecycleTests.SyntheticVector(row)), ModelVersion = TestPaths.ModelVersion },
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

    [Fact]
    public async Task A_running_clustering_can_be_cancelled_and_a_new_one_started()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var host = await ServerHost.StartAsync(dir.Path);
        await EnrollIdentitiesAsync(host.Client, 0, 2_000);

        // The faces were just acknowledged: the run is still waiting for the graph when it is cancelled.
        var started = await host.Client.StartClusteringAsync(new StartClusteringRequest { Collection = "default" });
        var busy = await Assert.ThrowsAsync<RpcException>(() => host.Client.StartClusteringAsync(new StartClusteringRequest { Collection = "default" }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, busy.StatusCode);
        Assert.Contains(started.Id, busy.Status.Detail);

        await host.Client.CancelOperationAsync(new CancelOperationRequest { Id = started.Id });
        var cancelled = await WaitAsync(host.Client, started.Id, OperationState.Cancelled);
        Assert.Equal("Cancelled by a client.", cancelled.Error);
        Assert.NotNull(cancelled.FinishedAt);
        var none = await Assert.ThrowsAsync<RpcException>(() => host.Client.ListClustersAsync(new ListClustersRequest()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, none.StatusCode);

        var again = await WaitAsync(host.Client, (await host.Client.StartClusteringAsync(new StartClusteringRequest())).Id);
        await AssertEveryFaceClusteredAsync(host.Client, again, identities: 2_000);
    }

    [Fact]
    public async Task A_clustering_cut_short_by_a_shutdown_is_failed_after_the_restart_and_the_previous_result_stays()
    {
        using var dir = TestPaths.NewTempDirectory();
        string finished;
        string interrupted;
        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            await EnrollIdentitiesAsync(host.Client, 0, 1_000);
            finished = (await WaitAsync(host.Client, (await host.Client.StartClusteringAsync(new StartClusteringRequest())).Id)).Id;
            await EnrollIdentitiesAsync(host.Client, 1_000, 1_000);
            interrupted = (await host.Client.StartClusteringAsync(new StartClusteringRequest())).Id;
        }

        await using (var host = await ServerHost.StartAsync(dir.Path))
        {
            var cut = await host.Client.GetOperationAsync(new GetOperationRequest { Id = interrupted });
            Assert.Equal(OperationState.Failed, cut.State);
            Assert.Equal("The server shut down while the clustering ran; start it again.", cut.Error);
            var done = await host.Client.GetOperationAsync(new GetOperationRequest { Id = finished });
            Assert.Equal(OperationState.Succeeded, done.State);
            Assert.Equal(1_000, done.ClusterCount);

            var page = await host.Client.ListClustersAsync(new ListClustersRequest { PageSize = 1000 });
            Assert.Equal(finished, page.OperationId);
            Assert.Equal(1_000, page.Clusters.Count);
            Assert.All(page.Clusters, c => Assert.Equal(10, c.Size));

            var rerun = await WaitAsync(host.Client, (await host.Client.StartClusteringAsync(new StartClusteringRequest())).Id);
            await AssertEveryFaceClusteredAsync(host.Client, rerun, identities: 2_000);
        }
    }

    /// <summary>
    /// The newest result is <paramref name="operation"/>'s and holds each of the ten samples of every
    /// identity once, in about one cluster per identity (within 1 %: the synthetic noise now and
    /// then splits off a stray sample or joins two close identities).
    /// </summary>
    private static async Task AssertEveryFaceClusteredAsync(Protocol.V1.FaceIndex.FaceIndexClient client, Operation operation, int identities)
    {
        Assert.InRange(operation.ClusterCount, identities - (identities / 100), identities + (identities / 100));
        var sizes = new List<int>();
        string token = "";
        do
        {
            var page = await client.ListClustersAsync(new ListClustersRequest { PageSize = 1000, PageToken = token });
            Assert.Equal(operation.Id, page.OperationId);
            sizes.AddRange(page.Clusters.Select(c => c.Size));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal(operation.ClusterCount, sizes.Count);
        Assert.Equal(identities * 10, sizes.Sum());
    }

    /// <summary>
    /// Enrols the ten samples (base rows k + 10000·j, GENERATOR.md) of synthetic identities
    /// [first, first + identities) into the default collection over one stream.
    /// </summary>
    private static async Task EnrollIdentitiesAsync(Protocol.V1.FaceIndex.FaceIndexClient client, int first, int identities)
    {
        int count = identities * 10;
        using var call = client.EnrollStream();
        var reading = Task.Run(async () =>
        {
            int acknowledged = 0;
            await foreach (var result in call.ResponseStream.ReadAllAsync())
            {
                Assert.Null(result.Error);
                acknowledged++;
            }

            return acknowledged;
        });
        for (int j = 0; j < 10; j++)
        {
            for (int row = first + (10_000 * j); row < first + identities + (10_000 * j); row++)
            {
                await call.RequestStream.WriteAsync(new EnrollRequest { PersonId = $"photo-{row}", Vector = new() { Data = ByteString.CopyFrom(LifecycleTests.SyntheticVector(row)), ModelVersion = TestPaths.ModelVersion } });
            }
        }

        await call.RequestStream.CompleteAsync();
        Assert.Equal(count, await reading);
    }

    private static async Task<Operation> WaitAsync(Protocol.V1.FaceIndex.FaceIndexClient client, string id, OperationState expected = OperationState.Succeeded)
    {
        for (int i = 0; i < 1200; i++)
        {
            var operation = await client.GetOperationAsync(new GetOperationRequest { Id = id });
            if (operation.State is OperationState.Succeeded or OperationState.Failed or OperationState.Cancelled)
            {
                Assert.True(operation.State == expected, $"{operation.State}: {operation.Error}");
                return operation;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The clustering did not finish in 120 s.");
    }
}
