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
    ClusteringJobs clustering,
    FaceThumbnails thumbnails,
    IOptions<ServerOptions> options,
    IOptions<Clustering.ClusteringOptions> clusteringDefaults,
    IAuthorizationService authorization) : V1.FaceIndex.FaceIndexBase
{
    /// <summary>Bounds of a squared norm of a valid code: a quantized unit vector has |v|² ≈ 127².</summary>
    private const int MinSquaredNorm = (int)(0.8 * 127 * 127);
    private const int MaxSquaredNorm = (int)(1.2 * 127 * 127);

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

    /// <summary>Checks a client's vector against the collection: 128 bytes, components in [−127, 127], unit scale, same model.</summary>
    private static FaceVector ParseVector(V1.FaceVector message, CollectionRecord collection)
    {
        var data = message.Data.Span;
        if (data.Length != FaceVector.Dimensions)
        {
            Errors.Throw(FaceIndexError.InvalidVector, $"A face vector is exactly {FaceVector.Dimensions} bytes; got {data.Length}.");
        }

        var vector = FaceVector.FromBytes(data);
        if (!Quantizer.IsValid(vector.AsSpan()))
        {
            Errors.Throw(FaceIndexError.InvalidVector, "A face vector's components lie in [-127, 127]; this one holds -128.");
        }

        int squaredNorm = vector.Dot(vector);
        if (squaredNorm is < MinSquaredNorm or > MaxSquaredNorm)
        {
            Errors.Throw(FaceIndexError.InvalidVector, $"A face vector is a unit vector quantized at scale 127 (squared norm near 16129); this one's squared norm is {squaredNorm}.");
        }

        Validation.Length(message.ModelVersion, "model_version", Validation.MaxModelVersionBytes);
        if (message.ModelVersion.Length == 0)
        {
            Errors.Throw(
                FaceIndexError.InvalidVector,
                $"A face vector names the model that made it (model_version); collection '{collection.Name}' holds vectors of '{collection.ModelVersion}'.");
        }

        if (!string.Equals(message.ModelVersion, collection.ModelVersion, StringComparison.Ordinal))
        {
            Errors.Throw(
                FaceIndexError.ModelMismatch,
                $"The vector was made by model '{message.ModelVersion}'; collection '{collection.Name}' holds vectors of '{collection.ModelVersion}'.");
        }

        return vector;
    }

    /// <summary>The person id of a write, which must not be empty.</summary>
    private static string PersonId(string personId)
    {
        if (string.IsNullOrEmpty(personId))
        {
            Errors.ThrowInvalid("The person_id must not be empty.");
        }

        Validation.Length(personId, "person_id", FaceStore.MaxPersonIdBytes);
        return personId;
    }

    /// <summary>The requested threshold, or <paramref name="fallback"/>; a squared L2 distance in [0, 4].</summary>
    private static float Threshold(bool has, float requested, float fallback)
    {
        if (!has)
        {
            return fallback;
        }

        if (!float.IsFinite(requested) || requested is < 0f or > 4f)
        {
            Errors.ThrowInvalid($"The threshold is a squared L2 distance in [0, 4]; got {requested}.");
        }

        return requested;
    }

    /// <summary>Faces of an image, largest first, with the model check of the collection.</summary>
    private async Task<IReadOnlyList<DetectedFace>> AnalyzeAsync(Google.Protobuf.ByteString image, CollectionRecord? collection, CancellationToken ct)
    {
        if (collection is not null && !string.Equals(collection.ModelVersion, Pipeline.ModelVersion, StringComparison.Ordinal))
        {
            Errors.Throw(
                FaceIndexError.ModelMismatch,
                $"Collection '{collection.Name}' holds vectors of model '{collection.ModelVersion}'; this server embeds images with '{Pipeline.ModelVersion}'.");
        }

        return await Pipeline.AnalyzeAsync(image.Memory, ct).ConfigureAwait(false);
    }

    /// <summary>The largest face of an image, or NoFace; with the model check of <paramref name="collection"/> when one is given.</summary>
    private async Task<DetectedFace> LargestFaceAsync(Google.Protobuf.ByteString image, string which, CollectionRecord? collection, CancellationToken ct)
    {
        var faces = await AnalyzeAsync(image, collection, ct).ConfigureAwait(false);
        if (faces.Count == 0)
        {
            Errors.Throw(FaceIndexError.NoFace, $"No face was found in {which}.");
        }

        return faces[0];
    }
}
