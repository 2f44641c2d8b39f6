using FaceIndex.Cluster.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace FaceIndex.Cluster;

/// <summary>Adds FaceIndex's grains and services to an Orleans silo.</summary>
public static class ClusterHosting
{
    /// <summary>The name of the grain storage that holds the catalog (Redis in production).</summary>
    public const string CatalogStorage = "faceindex-catalog";

    /// <summary>
    /// Registers the replica placement, the node reconciler and <paramref name="options"/> on the silo.
    /// The host adds clustering (Redis) and the <see cref="CatalogStorage"/> grain storage.
    /// </summary>
    public static ISiloBuilder AddFaceIndexCluster(this ISiloBuilder builder, Action<ClusterNodeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ClusterNodeOptions>().Configure(options).Validate(o =>
        {
            o.Validate();
            return true;
        });
        builder.AddPlacementDirector<NodePlacementStrategy, NodePlacementDirector>();
        builder.Services.AddHostedService<NodeReconciler>();
        return builder;
    }
}
