using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace FaceIndex.Cluster;

/// <summary>
/// How a server process joins the cluster (configuration section <c>Cluster</c>): Redis for
/// membership and the catalog, its node name and its silo ports.
/// </summary>
public sealed class ClusterNodeSettings
{
    /// <summary>True to run as a cluster node (<c>faceindex serve --cluster</c>). Default false: the single-node server.</summary>
    public bool Enabled { get; set; }

    /// <summary>Redis connection string (StackExchange.Redis syntax, e.g. <c>127.0.0.1:6379</c>).</summary>
    public string Redis { get; set; } = string.Empty;

    /// <summary>This node's name, unique in the cluster and stable across restarts (its replicas are found by it).</summary>
    public string Node { get; set; } = string.Empty;

    /// <summary>Cluster id: nodes with the same id and Redis form one cluster. Default "faceindex".</summary>
    public string ClusterId { get; set; } = "faceindex";

    /// <summary>Address other silos reach this one at. Default 127.0.0.1.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Silo-to-silo port. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client gateway port (used by <c>faceindex cluster-status</c>). Default 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Checks the settings; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        if (!Enabled)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(Redis))
        {
            throw new ArgumentException("Cluster:Redis (--redis) must give the Redis connection string in cluster mode.", nameof(Redis));
        }

        if (string.IsNullOrWhiteSpace(Node) || Node.Contains('|', StringComparison.Ordinal))
        {
            throw new ArgumentException("Cluster:Node (--node) must name this node (without '|') in cluster mode.", nameof(Node));
        }

        if (!IPAddress.TryParse(AdvertisedAddress, out _))
        {
            throw new ArgumentException($"Cluster:AdvertisedAddress must be an IP address; it is '{AdvertisedAddress}'.", nameof(AdvertisedAddress));
        }

        if (SiloPort is < 1 or > 65535 || GatewayPort is < 1 or > 65535 || SiloPort == GatewayPort)
        {
            throw new ArgumentException("Cluster:SiloPort and Cluster:GatewayPort must be two different ports in 1–65535.");
        }
    }
}

/// <summary>Hosts an Orleans silo with FaceIndex's grains in a server process, on Redis membership and catalog storage.</summary>
public static class ClusterNodeHosting
{
    /// <summary>Adds the silo (Redis clustering, Redis catalog storage, the FaceIndex grains) and a <see cref="FaceCluster"/> to the host.</summary>
    public static IHostApplicationBuilder AddFaceIndexClusterNode(this IHostApplicationBuilder builder, ClusterNodeSettings settings, Action<ClusterNodeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var redis = ConfigurationOptions.Parse(settings.Redis);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ClusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.Node);
            silo.ConfigureEndpoints(IPAddress.Parse(settings.AdvertisedAddress), settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: false);
            silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
            // The catalog is stored with Orleans' own serializer (the layouts are [GenerateSerializer]
            // types): the default JSON serializer writes the runtime types of read-only lists, which
            // it cannot read back.
            silo.Services.AddRedisGrainStorage(ClusterHosting.CatalogStorage, storage => storage.Configure<Orleans.Serialization.Serializer>((o, serializer) =>
            {
                o.ConfigurationOptions = redis.Clone();
                o.GrainStorageSerializer = new Orleans.Storage.OrleansGrainStorageSerializer(serializer);
            }));
            silo.AddFaceIndexCluster(options);

            // Failure detection: Orleans' ClusterMembershipOptions from Cluster:Membership (for example
            // ProbeTimeout, NumMissedProbesLimit, NumVotesForDeathDeclaration); Orleans' defaults otherwise.
            silo.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Cluster:Membership"));
        });
        builder.Services.AddSingleton(sp => new FaceCluster(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ClusterNodeOptions>>().Value));
        return builder;
    }
}
