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

        float threshold = Threshold(request.HasThreshold, request.Threshold, runtime.MatchThreshold);
        var record = RequireCollection(collection);
        var response = new V1.SearchResponse { Threshold = threshold };
        switch (request.InputCase)
        {
            case V1.SearchRequest.InputOneofCase.Vector:
                response.Faces.Add(Identify(collection, ParseVector(request.Vector, record), topK, request.Ef, threshold));
                break;
            case V1.SearchRequest.InputOneofCase.Image:
                foreach (var face in await AnalyzeAsync(request.Image, record, context.CancellationToken).ConfigureAwait(false))
                {
                    var matches = Identify(collection, face.Vector, topK, request.Ef, threshold);
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

    /// <summary>Fills <see cref="V1.FaceMatches.Persons"/>: the matches grouped by person, in the order of each person's best match.</summary>
    private static void GroupByPerson(V1.FaceMatches matches)
    {
        foreach (var match in matches.Matches)
        {
            V1.PersonMatch? group = null;
            foreach (var existing in matches.Persons)
            {
                if (string.Equals(existing.PersonId, match.PersonId, StringComparison.Ordinal))
                {
                    group = existing;
                    break;
                }
            }

            if (group is null)
            {
                // Matches come best first, so a person's first match is their best.
                matches.Persons.Add(new V1.PersonMatch { PersonId = match.PersonId, Distance = match.Distance, Similarity = match.Similarity, BestFaceId = match.FaceId, MatchedFaces = 1 });
            }
            else
            {
                group.MatchedFaces++;
            }
        }
    }

    /// <summary>The matches of one face: nearest faces under the threshold, with their persons.</summary>
    private V1.FaceMatches Identify(string collection, in FaceVector query, int topK, int ef, float threshold)
    {
        var rented = ArrayPool<Neighbor>.Shared.Rent(topK);
        try
        {
            var results = rented.AsSpan(0, topK);
            int found;
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            using (var activity = ServerTelemetry.Source.StartActivity("index.search"))
            {
                found = Database.Search(collection, query, results, ef);
                activity?.SetTag("faceindex.collection", collection);
                activity?.SetTag("faceindex.candidates", found);
            }

            ServerTelemetry.SearchDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("collection", collection));
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
            GroupByPerson(matches);
            metrics.Searched(!matches.Unknown);
            ServerTelemetry.FacesSearched.Add(1, new KeyValuePair<string, object?>("collection", collection), new KeyValuePair<string, object?>("outcome", matches.Unknown ? "unknown" : "match"));
            return matches;
        }
        finally
        {
            ArrayPool<Neighbor>.Shared.Return(rented);
        }
    }
}
