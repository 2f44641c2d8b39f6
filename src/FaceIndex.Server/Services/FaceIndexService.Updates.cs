using FaceIndex.Server.Internal;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    /// <summary>Merges, replaces or removes a person's metadata keys, and renames it when asked; the person must exist.</summary>
    public override async Task<V1.Person> UpdatePerson(V1.UpdatePersonRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        RequireCollection(collection);
        var personId = PersonId(request.PersonId);
        if (!Database.TryGetPerson(collection, personId, out var person))
        {
            Errors.ThrowNotFound($"Person '{personId}' does not exist in collection '{collection}'.");
        }

        var metadata = RequestChecks.UpdatedMetadata(person.Metadata, request);

        string? newPersonId = request.NewPersonId.Length > 0 ? PersonId(request.NewPersonId) : null;
        if (newPersonId is not null && !string.Equals(newPersonId, personId, StringComparison.Ordinal))
        {
            await Database.RenamePersonAsync(collection, personId, newPersonId, context.CancellationToken).ConfigureAwait(false);
            personId = newPersonId;
        }

        bool metadataChanged = request.ReplaceMetadata || request.RemoveMetadataKeys.Count > 0 || request.Metadata.Count > 0;
        if (metadataChanged)
        {
            await Database.SetPersonMetadataAsync(collection, personId, metadata, context.CancellationToken).ConfigureAwait(false);
        }

        return await GetPerson(new V1.GetPersonRequest { Collection = collection, PersonId = personId }, context).ConfigureAwait(false);
    }

    /// <summary>Gives faces of the collection to a person (created when absent).</summary>
    public override async Task<V1.Person> AssignFaces(V1.AssignFacesRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        RequireCollection(collection);
        var personId = PersonId(request.PersonId);
        var faceIds = new List<long>(request.FaceIds.Count);
        foreach (var faceId in request.FaceIds)
        {
            if (faceId == 0 || faceId > long.MaxValue)
            {
                Errors.ThrowInvalid($"face_ids holds {faceId}, which is not a face id returned by Enroll.");
            }

            faceIds.Add((long)faceId);
        }

        await Database.MoveFacesAsync(collection, faceIds, personId, context.CancellationToken).ConfigureAwait(false);
        return await GetPerson(new V1.GetPersonRequest { Collection = collection, PersonId = personId }, context).ConfigureAwait(false);
    }

    /// <summary>The stored 112×112 JPEG of a face of the collection.</summary>
    public override async Task<V1.FaceThumbnail> GetFaceThumbnail(V1.GetFaceThumbnailRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        RequireCollection(collection);
        if (request.FaceId == 0 || request.FaceId > long.MaxValue)
        {
            Errors.ThrowInvalid($"face_id must be a face id returned by Enroll; got {request.FaceId}.");
        }

        long faceId = (long)request.FaceId;
        if (!Database.TryGetFace(faceId, out var face) || !string.Equals(face.Collection, collection, StringComparison.Ordinal))
        {
            Errors.ThrowNotFound($"Face {request.FaceId} does not exist in collection '{collection}'.");
        }

        if (!thumbnails.TryGet(faceId, out var jpeg))
        {
            Errors.ThrowNotFound($"No thumbnail was kept for face {request.FaceId} (it was enrolled as a vector, or with Storage:KeepThumbnails off).");
        }

        return new V1.FaceThumbnail
        {
            FaceId = request.FaceId,
            ContentType = "image/jpeg",
            Data = Google.Protobuf.ByteString.CopyFrom(jpeg),
            Width = 112,
            Height = 112,
        };
    }
}
