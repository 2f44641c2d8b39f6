using System.Buffers;
using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Server.Internal;
using Grpc.Core;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    private const int MaxEf = 4096;

    public override async Task<V1.SearchResponse> Search(V1.SearchRequest request, ServerCallContext context)
    {
        var collection = Collection(request.Collection, context, write: false);
        int topK = request.TopK == 0 ? _options.DefaultTopK : request.TopK;
        if (topK < 1 || topK > _options.MaxTopK)
        {
            Errors.ThrowInvalid($"top_k must lie in [1, {_options.MaxTopK}] (0 = {_options.DefaultTopK}); got {request.TopK}.");
        }

        if (request.Ef is < 0 or > MaxEf)
        {
            Errors.ThrowInvalid($"ef must lie in [0, {MaxEf}] (0 = the server's default); got {request.Ef}.");
        }

        var record = RequireCollection(collection);
        float threshold = Threshold(request.HasThreshold, request.Threshold, DefaultMatchThreshold(record));
        var response = new V1.SearchResponse { Threshold = threshold };
        switch (request.InputCase)
        {
            case V1.SearchRequest.InputOneofCase.Vector:
                RefuseVectorForFused(record);
                response.Faces.Add(Identify(collection, ParseVector(request.Vector, record), topK, request.Ef, threshold));
                break;
            case V1.SearchRequest.InputOneofCase.Image:
                foreach (var face in await AnalyzeAsync(request.Image, record, context.CancellationToken).ConfigureAwait(false))
                {
                    var matches = face.SecondaryVector is { } secondary
                        ? IdentifyFused(collection, ModelOf(record), face.Vector, secondary, topK, request.Ef, threshold)
                        : Identify(collection, face.Vector, topK, request.Ef, threshold);
                    matches.Box = Proto.Box(face.Box);
                    matches.DetectionScore = face.Score;
                    response.Faces.Add(matches);
                }

                break;
            default:
                Errors.ThrowInvalid("A search request carries an image or a vector; this one has neither.");
                break;
        }

        return response;
    }

    public override async Task<V1.VerifyResponse> Verify(V1.VerifyRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var collection = Collection(request.Collection, context, write: false);
        float threshold = Threshold(request.HasThreshold, request.Threshold, runtime.VerifyThreshold);
        if (request.ImageA.IsEmpty)
        {
            Errors.ThrowInvalid("image_a is required.");
        }

        if (request.BCase == V1.VerifyRequest.BOneofCase.PersonId)
        {
            PersonId(request.PersonId);
        }

        var response = new V1.VerifyResponse { Threshold = threshold };
        var a = await LargestFaceAsync(request.ImageA, "image_a", ct).ConfigureAwait(false);
        switch (request.BCase)
        {
            case V1.VerifyRequest.BOneofCase.ImageB:
                var b = await LargestFaceAsync(request.ImageB, "image_b", ct).ConfigureAwait(false);
                response.Distance = Similarity.Distance(a.Vector, b.Vector);
                break;
            case V1.VerifyRequest.BOneofCase.PersonId:
                var record = RequireCollection(collection);
                if (!Database.TryGetPerson(collection, request.PersonId, out var person) || person.FaceIds.Count == 0)
                {
                    Errors.ThrowNotFound($"Person '{request.PersonId}' has no faces in collection '{collection}'.");
                }

                // The probe is embedded with the collection's model; its faces are compared by that model's distance.
                var model = ModelOf(record);
                if (model.Id != Pipeline.Registry.Default.Id)
                {
                    a = await LargestFaceAsync(request.ImageA, "image_a", ct, record).ConfigureAwait(false);
                    if (!request.HasThreshold)
                    {
                        threshold = model.VerificationThreshold;
                        response.Threshold = threshold;
                    }
                }

                float best = float.PositiveInfinity;
                foreach (long faceId in person.FaceIds)
                {
                    if (!Database.TryGetFace(faceId, out var face))
                    {
                        continue;
                    }

                    float distance = Codes.Distance(model, a.Vector, a.SecondaryVector, face.Vector, face.SecondaryVector);
                    if (distance < best)
                    {
                        best = distance;
                        response.ClosestFaceId = (ulong)faceId;
                    }
                }

                response.Distance = best;
                break;
            default:
                Errors.ThrowInvalid("A verify request needs image_b or person_id.");
                break;
        }

        response.Similarity = Similarity.CosineFromDistance(response.Distance);
        response.Same = response.Distance <= threshold;
        return response;
    }

    /// <summary>The matches of one face: nearest faces under the threshold, with their persons.</summary>
    private V1.FaceMatches Identify(string collection, in FaceVector query, int topK, int ef, float threshold)
    {
        var rented = ArrayPool<Neighbor>.Shared.Rent(topK);
        try
        {
            var results = rented.AsSpan(0, topK);
            int found = Database.Search(collection, query, results, ef);
            int minDot = Similarity.MinDotForDistance(threshold);
            var matches = new V1.FaceMatches();
            foreach (var neighbor in results[..found])
            {
                // Best first: the first one over the threshold ends the list.
                if (neighbor.Score < minDot)
                {
                    break;
                }

                // A face deleted or moved since the index answered is skipped, never reported.
                if (Database.TryGetFacePerson(collection, neighbor.Id, out var personId))
                {
                    float distance = neighbor.Distance;
                    matches.Matches.Add(new V1.Match
                    {
                        PersonId = personId,
                        FaceId = (ulong)neighbor.Id,
                        Distance = distance,
                        Similarity = Similarity.CosineFromDistance(distance),
                    });
                }
            }

            matches.Unknown = matches.Matches.Count == 0;
            metrics.Searched(!matches.Unknown);
            return matches;
        }
        finally
        {
            ArrayPool<Neighbor>.Shared.Return(rented);
        }
    }
}
