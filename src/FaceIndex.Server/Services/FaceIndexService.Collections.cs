using FaceIndex.Engine;
using FaceIndex.Server.Internal;
using FaceIndex.Vision;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    public override async Task<V1.Collection> CreateCollection(V1.CreateCollectionRequest request, ServerCallContext context)
    {
        // An empty name means the default collection, as in every other call (which cannot be deleted).
        var name = await CollectionAsync(request.Name, context, write: true).ConfigureAwait(false);
        var model = Pipeline.Registry.Default;
        if (request.Model.Length > 0 && !Pipeline.Registry.TryGet(request.Model, out model))
        {
            Errors.ThrowInvalid($"Unknown model '{request.Model}'; the registered models are {Pipeline.Registry.Names}.");
        }

        RequireEmbedders(model);

        if (!await Database.CreateCollectionAsync(name, model.Id, context.CancellationToken).ConfigureAwait(false))
        {
            throw Errors.Rpc(StatusCode.AlreadyExists, "ALREADY_EXISTS", $"Collection '{name}' exists already.");
        }

        return Proto.Collection(RequireCollection(name));
    }

    /// <summary>Refuses a model whose networks this server has not installed (FailedPrecondition, MODEL_MISSING).</summary>
    private void RequireEmbedders(EmbeddingModel model)
    {
        if (model.Uses(EmbedderKind.Dlib128) && !Pipeline.HasDlib)
        {
            throw Errors.Rpc(StatusCode.FailedPrecondition, "MODEL_MISSING", $"Model '{model.Id}' needs the dlib network, which this server has not installed (models/dlib128.onnx: faceindex models fetch).");
        }
    }

    public override async Task<V1.ListCollectionsResponse> ListCollections(V1.ListCollectionsRequest request, ServerCallContext context)
    {
        var response = new V1.ListCollectionsResponse();
        foreach (var collection in await VisibleCollectionsAsync(context).ConfigureAwait(false))
        {
            response.Collections.Add(Proto.Collection(collection));
        }

        return response;
    }

    public override async Task<V1.DeleteCollectionResponse> DeleteCollection(V1.DeleteCollectionRequest request, ServerCallContext context)
    {
        // An empty name means the default collection, as in every other call (which cannot be deleted).
        var name = await CollectionAsync(request.Name, context, write: true).ConfigureAwait(false);
        if (name == FaceDatabase.DefaultCollection)
        {
            throw Errors.Rpc(StatusCode.FailedPrecondition, "DEFAULT_COLLECTION", "The default collection cannot be deleted; delete its persons instead.");
        }

        var deleted = await Database.DeleteCollectionAsync(name, context.CancellationToken).ConfigureAwait(false);
        if (deleted is null)
        {
            Errors.ThrowNotFound($"Collection '{name}' does not exist.");
        }

        await clustering.DeleteResultsAsync(name, context.CancellationToken).ConfigureAwait(false);
        thumbnails.SweepLater();
        return new V1.DeleteCollectionResponse { DeletedFaces = deleted.Value };
    }

    public override async Task<V1.StatsResponse> Stats(V1.StatsRequest request, ServerCallContext context)
    {
        var store = Database.GetStoreStats();
        var index = Database.IndexOptions;
        var collections = string.IsNullOrEmpty(request.Collection)
            ? await VisibleCollectionsAsync(context).ConfigureAwait(false)
            : [RequireCollection(await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false))];
        var response = new V1.StatsResponse
        {
            ModelVersion = string.IsNullOrEmpty(request.Collection) ? Pipeline.ModelVersion : collections[0].ModelVersion,
            ExecutionProvider = Pipeline.ExecutionProvider.ToString(),
            DefaultThreshold = runtime.MatchThreshold,
            VerifyThreshold = runtime.VerifyThreshold,
            StoreLogBytes = store.LogBytes,
            Index = new V1.IndexParameters { M = index.M, EfConstruction = index.EfConstruction, EfSearch = index.EfSearch, ExactBelow = runtime.ExactSearchBelow },
            Models = { Pipeline.Registry.Models.Where(m => !m.Uses(EmbedderKind.Dlib128) || Pipeline.HasDlib).Select(m => m.Id) },
        };
        if (store.LastCheckpoint is { } checkpoint)
        {
            response.LastCheckpoint = Timestamp.FromDateTimeOffset(checkpoint);
        }

        foreach (var collection in collections)
        {
            response.Collections++;
            response.Faces += collection.FaceCount;
            response.Persons += collection.PersonCount;
            var (threshold, fpir) = CollectionThreshold(collection);
            response.CollectionSearch.Add(new V1.CollectionSearchStats
            {
                Collection = collection.Name,
                Faces = collection.FaceCount,
                SearchThreshold = threshold,
                SearchFpir = fpir,
                MinQuality = _options.MinFaceQualityOf(collection.Name),
            });
            if (Database.TryGetIndexStats(collection.Name, out long indexed, out long pending))
            {
                response.IndexedFaces += indexed;
                response.PendingFaces += pending;
            }
        }

        return response;
    }
}
