using FaceIndex.Core;
using FaceIndex.Testing;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.TestingHost;

namespace FaceIndex.Cluster.Tests;

/// <summary>An in-process cluster of three silos, each with its own data directory, sharing a catalog storage.</summary>
internal sealed class ClusterFixture : IAsyncDisposable
{
    private readonly TempDirectory _data;

    private ClusterFixture(TempDirectory data, InProcessTestCluster cluster, ClusterNodeOptions options)
    {
        _data = data;
        Cluster = cluster;
        Options = options;
        Faces = new FaceCluster(cluster.Client, options);
    }

    public InProcessTestCluster Cluster { get; }

    public ClusterNodeOptions Options { get; }

    public FaceCluster Faces { get; }

    public string DataDirectory => _data.Path;

    public static async Task<ClusterFixture> StartAsync(int silos = 3)
    {
        var data = TestPaths.NewTempDirectory();
        var options = NodeOptions(data.Path);
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddFaceIndexCluster(o => Copy(options, o));
            silo.Services.AddGrainStorage(ClusterHosting.CatalogStorage, (sp, _) => ActivatorUtilitiesCreate(sp));
            silo.Configure<ClusterMembershipOptions>(m =>
            {
                m.ProbeTimeout = TimeSpan.FromSeconds(1);
                m.NumMissedProbesLimit = 2;
                m.NumVotesForDeathDeclaration = 1;
                m.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            });
            silo.Configure<SiloMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromSeconds(10));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new ClusterFixture(data, cluster, options);
    }

    public static ClusterNodeOptions NodeOptions(string dataDirectory) => new()
    {
        DataDirectory = dataDirectory,
        DirectoryPerNode = true,
        DefaultShards = 3,
        DefaultReplication = 2,
        ReconcileInterval = TimeSpan.FromMilliseconds(500),
        ShipTimeout = TimeSpan.FromSeconds(3),
        Storage = SmallStorage(),
    };

    /// <summary>Store settings small enough for several stores per test process.</summary>
    public static Storage.StorageOptions SmallStorage() => new()
    {
        MemoryBudgetBytes = 16L << 20,
        IndexBuckets = 1L << 14,
        SegmentSizeBytes = 16L << 20,
        WalMemoryBytes = 4L << 20,
    };

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>A random unit code (fixed seed per index).</summary>
    public static FaceVector RandomFace(Random random)
    {
        Span<float> values = stackalloc float[FaceVector.Dimensions];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return Quantizer.Quantize(values);
    }

    private static SharedGrainStorage ActivatorUtilitiesCreate(IServiceProvider services) =>
        Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance<SharedGrainStorage>(services);

    private static void Copy(ClusterNodeOptions from, ClusterNodeOptions to)
    {
        to.DataDirectory = from.DataDirectory;
        to.DirectoryPerNode = from.DirectoryPerNode;
        to.DefaultShards = from.DefaultShards;
        to.DefaultReplication = from.DefaultReplication;
        to.ReconcileInterval = from.ReconcileInterval;
        to.ShipTimeout = from.ShipTimeout;
        to.Storage = from.Storage;
    }
}
