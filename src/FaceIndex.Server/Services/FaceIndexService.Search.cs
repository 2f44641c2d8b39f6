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
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
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
        var (threshold, fpir) = SearchThreshold(request, record);
        float minimum = MinQuality(request.HasMinQuality, request.MinQuality, collection);
        var response = new V1.SearchResponse { Threshold = threshold, Fpir = fpir, MinQuality = minimum };
        switch (request.InputCase)
        {
            case V1.SearchRequest.InputOneofCase.Vector:
                RefuseVectorForFused(record);
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
                        : face.SecondaryVector is { } secondary
                        ? IdentifyFused(collection, ModelOf(record), face.Vector, secondary, topK, request.Ef, threshold)
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
        var collection = await CollectionAsync(request.Collection, context, write: false).ConfigureAwait(false);
        float threshold = Threshold(request.HasThreshold, request.Threshold, runtime.VerifyThreshold);
        if (request.ImageA.IsEmpty)
        {
            Errors.ThrowInvalid("image_a is required.");
        }

        // Against a person, the image must be embedded by the model of the person's stored vectors.
        Storage.CollectionRecord? record = null;
        Storage.PersonRecord? person = null;
        if (request.BCase == V1.VerifyRequest.BOneofCase.PersonId)
        {
            PersonId(request.PersonId);
            record = RequireCollection(collection);
            if (!Database.TryGetPerson(collection, request.PersonId, out person))
            {
                Errors.ThrowNotFound($"Person '{request.PersonId}' does not exist in collection '{collection}'.");
            }

            if (person.FaceIds.Count == 0)
            {
                Errors.ThrowNotFound($"Person '{request.PersonId}' has no faces in collection '{collection}'.");
            }
        }

        var response = new V1.VerifyResponse { Threshold = threshold };
        var a = await LargestFaceAsync(request.ImageA, "image_a", record, ct).ConfigureAwait(false);
        switch (request.BCase)
        {
            case V1.VerifyRequest.BOneofCase.ImageB:
                var b = await LargestFaceAsync(request.ImageB, "image_b", null, ct).ConfigureAwait(false);
                response.Distance = Similarity.Distance(a.Vector, b.Vector);
                break;
            case V1.VerifyRequest.BOneofCase.PersonId:
                // The probe was embedded with the collection's model; its faces are compared by that model's distance.
                var model = ModelOf(record!);
                if (!request.HasThreshold && migrated.TryGet(record!, out var note))
                {
                    // Mapped codes (a migrated collection): the threshold measured for a mapped code against a new one.
                    threshold = note.VerifyThreshold;
                    response.Threshold = threshold;
                }
                else if (model.Id != Pipeline.Registry.Default.Id && !request.HasThreshold)
                {
                    threshold = model.VerificationThreshold;
                    response.Threshold = threshold;
                }

                float best = float.PositiveInfinity;
                foreach (long faceId in person!.FaceIds)
                {
                    if (!Database.TryGetFace(faceId, out var face))
                    {
                        continue;
                    }

                    if (!string.Equals(face.ModelVersion, model.Id, StringComparison.Ordinal))
                    {
                        Errors.Throw(
                            FaceIndexError.ModelMismatch,
                            $"Face {faceId} of person '{request.PersonId}' was made by model '{face.ModelVersion}'; collection '{collection}' embeds images with '{model.Id}'.");
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

        return RequestChecks.Verdict(response, threshold);
    }

    /// <summary>
    /// Fills <see cref="V1.FaceMatches.Persons"/>: the matches grouped by person, in the order of each person's best
    /// match; a person scores as their nearest face. bench/README.md ("person templates") compares aggregations: with
    /// 3–5 images per person the mean of the two nearest or a centroid detect 0.5–7 points more at FPIR 1 %.
    /// </summary>
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

    /// <summary>The matches of one face: nearest faces under the threshold, with their persons, nearest first.</summary>
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
            var matches = new V1.FaceMatches();
            var accepted = new List<V1.Match>(found);
            foreach (var neighbor in results[..found])
            {
                // A face deleted or moved since the index answered is skipped, never reported.
                if (!Database.TryGetFacePerson(collection, neighbor.Id, out var personId)
                    || !Database.TryGetIndexedVector(collection, neighbor.Id, out var stored))
                {
                    continue;
                }

                // The client's figure: the distance between the two codes' own unit vectors (0 for an equal code).
                float distance = Similarity.Distance(query, stored);
                if (distance <= threshold)
                {
                    accepted.Add(new V1.Match
                    {
                        PersonId = personId,
                        FaceId = (ulong)neighbor.Id,
                        Distance = distance,
                        Similarity = Similarity.CosineFromDistance(distance),
                    });
                }
            }

            // Re-ranked by the codes' own distance (the index ranks by dot product), ties by face id.
            accepted.Sort(static (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.FaceId.CompareTo(b.FaceId));
            matches.Matches.Add(accepted);

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
