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
        var (threshold, fpir) = SearchThreshold(request, collection, record.FaceCount);
        float minimum = MinQuality(request.HasMinQuality, request.MinQuality, collection);
        var response = new V1.SearchResponse { Threshold = threshold, Fpir = fpir, MinQuality = minimum };
        switch (request.InputCase)
        {
            case V1.SearchRequest.InputOneofCase.Vector:
                response.Faces.Add(Identify(collection, ParseVector(request.Vector, record), topK, request.Ef, threshold));
                break;
            case V1.SearchRequest.InputOneofCase.Image:
                foreach (var face in await AnalyzeAsync(request.Image, record, context.CancellationToken, request.Attributes).ConfigureAwait(false))
                {
                    // A face under the quality minimum is reported with its reasons, never matched: poor faces
                    // (small, blurred, turned away) embed near one another whoever they show.
                    bool poor = face.Quality.Score < minimum;
                    var matches = poor
                        ? new V1.FaceMatches { Unknown = true, LowQuality = true, QualityMessage = face.Quality.Explain(minimum) }
                        : Identify(collection, face.Vector, topK, request.Ef, threshold);
                    matches.Box = Proto.Box(face.Box);
                    matches.DetectionScore = face.Score;
                    matches.Quality = QualityMessage(face.Quality, minimum);
                    matches.Attributes = AttributesMessage(face.Attributes);
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
                RequireCollection(collection);
                if (!Database.TryGetPerson(collection, request.PersonId, out var person) || person.FaceIds.Count == 0)
                {
                    Errors.ThrowNotFound($"Person '{request.PersonId}' has no faces in collection '{collection}'.");
                }

                int best = int.MinValue;
                foreach (long faceId in person.FaceIds)
                {
                    if (!Database.TryGetFace(faceId, out var face))
                    {
                        continue;
                    }

                    int dot = a.Vector.Dot(face.Vector);
                    if (dot > best)
                    {
                        best = dot;
                        response.ClosestFaceId = (ulong)faceId;
                    }
                }

                response.Distance = Similarity.DistanceFromDot(best);
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
            AddPersons(matches);
            metrics.Searched(!matches.Unknown);
            return matches;
        }
        finally
        {
            ArrayPool<Neighbor>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The matched persons, best first: each once, scored by their nearest face among the matches (the
    /// aggregation chosen by measurement: README "Person templates").
    /// </summary>
    private static void AddPersons(V1.FaceMatches matches)
    {
        foreach (var match in matches.Matches)
        {
            // Matches come nearest first, so a person's first match is their nearest face.
            V1.PersonMatch? known = null;
            foreach (var person in matches.Persons)
            {
                if (person.PersonId == match.PersonId)
                {
                    known = person;
                    break;
                }
            }

            if (known is null)
            {
                matches.Persons.Add(new V1.PersonMatch { PersonId = match.PersonId, Distance = match.Distance, Similarity = match.Similarity, FaceId = match.FaceId, FacesMatched = 1 });
            }
            else
            {
                known.FacesMatched++;
            }
        }
    }
}
