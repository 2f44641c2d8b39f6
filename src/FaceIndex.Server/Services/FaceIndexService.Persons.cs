using FaceIndex.Server.Internal;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    private const int DefaultPageSize = 100;

    public override async Task<V1.Person> GetPerson(V1.GetPersonRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        RequireCollection(collection);
        if (!Database.TryGetPerson(collection, PersonId(request.PersonId), out var person))
        {
            Errors.ThrowNotFound($"Person '{request.PersonId}' does not exist in collection '{collection}'.");
        }

        var message = new V1.Person { Collection = collection, PersonId = person.PersonId, CreatedAt = Timestamp.FromDateTimeOffset(person.CreatedAt) };
        foreach (var (key, value) in person.Metadata)
        {
            message.Metadata[key] = value;
        }

        foreach (long faceId in person.FaceIds)
        {
            if (Database.TryGetFace(faceId, out var face))
            {
                message.Faces.Add(Proto.Face(face));
            }
        }

        return message;
    }

    public override async Task<V1.ListPersonsResponse> ListPersons(V1.ListPersonsRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        RequireCollection(collection);
        if (request.PageSize < 0)
        {
            Errors.ThrowInvalid($"page_size must not be negative; got {request.PageSize}.");
        }

        // Over the maximum is clamped (the usual paging convention), not refused.
        int pageSize = request.PageSize == 0 ? DefaultPageSize : Math.Min(request.PageSize, Storage.FaceStore.MaxPageSize);
        var page = Database.ListPersons(collection, pageSize, request.PageToken.Length == 0 ? null : request.PageToken);
        var response = new V1.ListPersonsResponse { NextPageToken = page.NextPageToken ?? "" };
        foreach (var person in page.Persons)
        {
            response.Persons.Add(new V1.PersonSummary
            {
                PersonId = person.PersonId,
                FaceCount = person.FaceIds.Count,
                CreatedAt = Timestamp.FromDateTimeOffset(person.CreatedAt),
            });
        }

        return response;
    }

    public override async Task<V1.DeleteFaceResponse> DeleteFace(V1.DeleteFaceRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        RequireCollection(collection);
        if (request.FaceId == 0 || request.FaceId > long.MaxValue)
        {
            Errors.ThrowInvalid($"face_id must be a face id returned by Enroll; got {request.FaceId}.");
        }

        var face = await Database.DeleteFaceAsync(collection, (long)request.FaceId, context.CancellationToken).ConfigureAwait(false);
        if (face is null)
        {
            Errors.ThrowNotFound($"Face {request.FaceId} does not exist in collection '{collection}'.");
        }

        await thumbnails.DeleteAsync([face.FaceId], context.CancellationToken).ConfigureAwait(false);
        return new V1.DeleteFaceResponse { FaceId = request.FaceId, PersonId = face.PersonId };
    }

    public override async Task<V1.DeletePersonResponse> DeletePerson(V1.DeletePersonRequest request, ServerCallContext context)
    {
        var collection = await CollectionAsync(request.Collection, context, write: true).ConfigureAwait(false);
        RequireCollection(collection);
        var deleted = await Database.DeletePersonAsync(collection, PersonId(request.PersonId), context.CancellationToken).ConfigureAwait(false);
        if (deleted is null)
        {
            Errors.ThrowNotFound($"Person '{request.PersonId}' does not exist in collection '{collection}'.");
        }

        await thumbnails.DeleteAsync(deleted, context.CancellationToken).ConfigureAwait(false);
        var response = new V1.DeletePersonResponse();
        foreach (long faceId in deleted)
        {
            response.DeletedFaceIds.Add((ulong)faceId);
        }

        return response;
    }
}
