using FaceIndex.Core;
using FaceIndex.Engine;
using FaceIndex.Server.Internal;
using FaceIndex.Storage;
using FaceIndex.Vision;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

/// <summary>
/// The faceindex.v1.FaceIndex service: validates each request at the edge, runs it on the face
/// pipeline and the database, and maps the outcome to the API's messages. Domain errors are thrown
/// as <see cref="FaceIndexException"/> or <see cref="RpcException"/> and mapped to statuses by
/// <see cref="CallInterceptor"/>. It binds itself (<see cref="BindService"/>) so that a malformed
/// request message is InvalidArgument rather than gRPC's Unknown.
/// </summary>
[BindServiceMethod(typeof(FaceIndexService), nameof(BindService))]
internal sealed partial class FaceIndexService(
    ServerRuntime runtime,
    ServerMetrics metrics,
    BackgroundJobs clustering,
    FaceThumbnails thumbnails,
    MigratedCollections migrated,
    IOptions<ServerOptions> options,
    IOptions<Clustering.ClusteringOptions> clusteringDefaults,
    IAuthorizationService authorization) : V1.FaceIndex.FaceIndexBase
{
    private readonly ServerOptions _options = options.Value;

    private FaceDatabase Database => runtime.Database;

    private FacePipeline Pipeline => runtime.Pipeline;

    /// <summary>The service's descriptor, for the reflection service (which reads it from the type that binds the service).</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => V1.FaceIndex.Descriptor;

    /// <summary>Binds the generated service's methods with request parsers that refuse malformed messages cleanly; the second parameter is the base type whose overrides gRPC looks up.</summary>
    public static void BindService(ServiceBinderBase binder, V1.FaceIndex.FaceIndexBase? service) =>
        V1.FaceIndex.BindService(new RequestBinder(binder), service);

    /// <summary>The request's collection name, "default" when empty, after checking that the caller may use it (PermissionDenied).</summary>
    private async Task<string> CollectionAsync(string name, ServerCallContext context, bool write)
    {
        Validation.Length(name, "collection name", FaceStore.MaxCollectionNameBytes);
        var collection = string.IsNullOrEmpty(name) ? FaceDatabase.DefaultCollection : name;
        await authorization.DemandAsync(UserOf(context), new CollectionScope(collection), write).ConfigureAwait(false);
        return collection;
    }

    /// <summary>The collections that the caller may read.</summary>
    private async Task<List<CollectionRecord>> VisibleCollectionsAsync(ServerCallContext context)
    {
        var user = UserOf(context);
        var visible = new List<CollectionRecord>();
        foreach (var collection in Database.ListCollections())
        {
            if (await authorization.MayReadAsync(user, collection.Name).ConfigureAwait(false))
            {
                visible.Add(collection);
            }
        }

        return visible;
    }

    /// <summary>The caller that the authentication middleware signed in (anonymous without a key).</summary>
    private static System.Security.Claims.ClaimsPrincipal UserOf(ServerCallContext context) => context.GetHttpContext().User;

    /// <summary>The collection's record, or NotFound with the call that creates it.</summary>
    private CollectionRecord RequireCollection(string collection)
    {
        if (!Database.TryGetCollection(collection, out var record))
        {
            Errors.ThrowNotFound($"Collection '{collection}' does not exist; create it with CreateCollection.");
        }

        return record;
    }

    /// <summary>Checks a client's vector against the collection (<see cref="RequestChecks.Vector"/>).</summary>
    private static FaceVector ParseVector(V1.FaceVector message, CollectionRecord collection) =>
        RequestChecks.Vector(message, collection.Name, collection.ModelVersion);

    /// <summary>The person id of a request, which must not be empty.</summary>
    private static string PersonId(string personId) => RequestChecks.PersonId(personId);

    /// <summary>The requested threshold, or <paramref name="fallback"/>; a squared L2 distance in [0, 4].</summary>
    private static float Threshold(bool has, float requested, float fallback) => RequestChecks.Threshold(has, requested, fallback);

    /// <summary>Faces of an image, largest first, embedded with the collection's model (the default model without a collection).</summary>
    private async Task<IReadOnlyList<DetectedFace>> AnalyzeAsync(Google.Protobuf.ByteString image, CollectionRecord? collection, CancellationToken ct, bool attributes = false)
    {
        var model = collection is null ? Pipeline.Registry.Default : ModelOf(collection);
        return await Pipeline.AnalyzeAsync(image.Memory, model, attributes, ct).ConfigureAwait(false);
    }

    /// <summary>The registered model of a collection's faces, or ModelMismatch when this server does not know it.</summary>
    private EmbeddingModel ModelOf(CollectionRecord collection)
    {
        if (!Pipeline.Registry.TryGet(collection.ModelVersion, out var model))
        {
            Errors.Throw(
                FaceIndexError.ModelMismatch,
                $"Collection '{collection.Name}' holds vectors of model '{collection.ModelVersion}', which this server cannot embed (it knows {Pipeline.Registry.Names}).");
        }

        return model;
    }

    /// <summary>Refuses a client vector for a collection whose faces hold two codes (a fused model): one code cannot be compared with them.</summary>
    private void RefuseVectorForFused(CollectionRecord collection)
    {
        if (Pipeline.Registry.TryGet(collection.ModelVersion, out var model) && model.CodesPerFace > 1)
        {
            Errors.ThrowInvalid($"Collection '{collection.Name}' uses the fused model '{model.Id}' (two codes per face); enrol and search it with images, not vectors.");
        }
    }

    /// <summary>Whether a collection's faces are the server's own model's (fr512), which the FPIR calibration was measured for.</summary>
    private bool UsesPipelineModel(CollectionRecord collection) =>
        string.Equals(collection.ModelVersion, Pipeline.ModelVersion, StringComparison.Ordinal) || !Pipeline.Registry.TryGet(collection.ModelVersion, out _);

    /// <summary>The fixed search threshold of a collection of another registered model (dlib, fused): the model's own identification threshold.</summary>
    private float ModelMatchThreshold(CollectionRecord collection) =>
        Pipeline.Registry.TryGet(collection.ModelVersion, out var model) ? model.IdentificationThreshold : runtime.MatchThreshold;

    /// <summary>The largest face of an image, or NoFace; embedded with the model of <paramref name="collection"/> when one is given.</summary>
    private async Task<DetectedFace> LargestFaceAsync(Google.Protobuf.ByteString image, string which, CollectionRecord? collection, CancellationToken ct)
    {
        return RequestChecks.LargestFace(await AnalyzeAsync(image, collection, ct).ConfigureAwait(false), which);
    }
}
