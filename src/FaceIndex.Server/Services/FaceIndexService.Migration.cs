using FaceIndex.Engine;
using FaceIndex.Server.Internal;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    public override async Task<V1.Operation> MigrateCollection(V1.MigrateCollectionRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        var from = ModelOf(RequireCollection(collection));
        if (request.Model.Length == 0)
        {
            Errors.ThrowInvalid($"A migration needs the model to migrate to (model); the registered models are {Pipeline.Registry.Names}.");
        }

        if (!Pipeline.Registry.TryGet(request.Model, out var to))
        {
            Errors.ThrowInvalid($"Unknown model '{request.Model}'; the registered models are {Pipeline.Registry.Names}.");
        }

        RequireEmbedders(to);

        // Throws InvalidArgument for the same model and MODEL_MISMATCH when the bundle has no code map for the pair.
        var plan = Pipeline.Registry.PlanMigration(from, to);
        var target = await CollectionAsync(request.TargetCollection.Length > 0 ? request.TargetCollection : $"{collection}-{to.Id}", context, write: true).ConfigureAwait(false);
        var job = await clustering.StartMigrationAsync(
            collection,
            new MigrationSpec(target, to.Id),
            face =>
            {
                var codes = plan.Apply(face.SecondaryVector is { } second ? [face.Vector, second] : [face.Vector]);
                return new FaceCodes(codes[0], codes.Length > 1 ? codes[1] : null);
            },
            thumbnails.CopyAsync,
            context.CancellationToken).ConfigureAwait(false);
        if (plan.MapsCodes)
        {
            // Created by the call above, before its first face is copied: searches of it use these thresholds from the start.
            await migrated.RecordAsync(RequireCollection(target), plan, CancellationToken.None).ConfigureAwait(false);
        }

        return Operation(job);
    }
}
