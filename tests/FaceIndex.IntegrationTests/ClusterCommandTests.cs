using System.Globalization;
using FaceIndex.Protocol.V1;
using FaceIndex.Testing;
using Google.Protobuf;

namespace FaceIndex.IntegrationTests;

/// <summary><c>faceindex cluster</c> against a running server and on a data directory directly.</summary>
public sealed class ClusterCommandTests
{
    private const int Identities = 60;

    [Fact]
    public async Task Cluster_against_a_server_and_on_its_data_directory_prints_the_clusters_their_quality_and_stores_the_result()
    {
        using var dir = TestPaths.NewTempDirectory();
        var data = Path.Combine(dir.Path, "data");
        var labels = Path.Combine(dir.Path, "labels.csv");
        var output = Path.Combine(dir.Path, "members.csv");
        var identityOf = new Dictionary<ulong, int>();
        await using (var host = await ServerHost.StartOnLoopbackAsync(data))
        {
            // Ten samples of each synthetic identity (rows k + 10000·j, GENERATOR.md), each enrolled as a person of its own.
            for (int k = 0; k < Identities; k++)
            {
                for (int j = 0; j < 10; j++)
                {
                    int row = k + (10_000 * j);
                    var reply = await host.Client.EnrollAsync(new EnrollRequest { PersonId = $"photo-{row}", Vector = new() { Data = ByteString.CopyFrom(LifecycleTests.SyntheticVector(row)), ModelVersion = TestPaths.ModelVersion } });
                    identityOf[reply.Faces[0].FaceId] = k;
                }
            }

            await File.WriteAllLinesAsync(labels, ["key,label", .. identityOf.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key},identity-{p.Value}"))]);
            var (exit, text) = await ConsoleCapture.RunAsync(["cluster", "--server", host.Address, "--eval", labels, "--models", TestPaths.Models]);
            Assert.True(exit == 0, text);
            Assert.Contains($"{Identities} clusters of {Identities * 10} faces", text, StringComparison.Ordinal);
            Assert.Contains($"evaluated {Identities * 10} labelled faces: {Identities} identities, {Identities} clusters", text, StringComparison.Ordinal);
            Assert.Matches(@"BCubed\s*│\s*1\.0000\s*│\s*1\.0000\s*│\s*1\.0000", text);

            // Each face's enrolled person as its label: every person is one face, so recall is perfect and precision is 1/10 per face.
            (exit, text) = await ConsoleCapture.RunAsync(["cluster", "--server", host.Address, "--eval", "persons", "--algorithm", "whispers", "--seed", "3", "--no-progress"]);
            Assert.True(exit == 0, text);
            Assert.Matches(@"BCubed\s*│\s*0\.1000\s*│\s*1\.0000", text);

            // The directory belongs to the running server.
            (exit, text) = await ConsoleCapture.RunAsync(["cluster", "--data", data, "--models", TestPaths.Models]);
            Assert.Equal(2, exit);
            Assert.True(text.Contains("in use by another FaceIndex server or tool", StringComparison.Ordinal), text);
        }

        var (code, printed) = await ConsoleCapture.RunAsync(["cluster", "--data", data, "--models", TestPaths.Models, "--threshold", "0.8", "--k", "12", "--output", output, "--eval", labels, "--no-progress"]);
        Assert.True(code == 0, printed);
        Assert.Contains($"evaluated {Identities * 10} labelled faces", printed, StringComparison.Ordinal);
        var members = (await File.ReadAllLinesAsync(output)).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(identityOf.Count, members.Count);
        Assert.Equal(identityOf.Keys.Order(), members.Select(m => ulong.Parse(m[0], CultureInfo.InvariantCulture)).Order());
        foreach (var cluster in members.GroupBy(m => m[1]))
        {
            Assert.Single(cluster.Select(m => identityOf[ulong.Parse(m[0], CultureInfo.InvariantCulture)]).Distinct());
        }

        // The run on the directory stored its result as a server run does: the server lists it after a restart.
        await using (var host = await ServerHost.StartAsync(data))
        {
            var page = await host.Client.ListClustersAsync(new ListClustersRequest { PageSize = 1000 });
            Assert.Equal(Identities, page.Clusters.Count);
            var operation = await host.Client.GetOperationAsync(new GetOperationRequest { Id = page.OperationId });
            Assert.Equal(OperationState.Succeeded, operation.State);
        }

        var (missingExit, missing) = await ConsoleCapture.RunAsync(["cluster", "--data", Path.Combine(dir.Path, "nowhere")]);
        Assert.Equal(2, missingExit);
        Assert.Contains("is not a FaceIndex data directory", missing, StringComparison.Ordinal);
    }
}
