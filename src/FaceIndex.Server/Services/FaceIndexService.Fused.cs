using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Server.Internal;
using FaceIndex.Vision;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Services;

internal sealed partial class FaceIndexService
{
    /// <summary>Candidates fetched by the searched code per requested match, before the fused re-ranking.</summary>
    private const int RerankFactor = 10;

    /// <summary>
    /// The matches of one face of a fused collection: the nearest <see cref="RerankFactor"/> × k faces by
    /// the searched (first) code, re-ranked by the model's fused distance over both codes; those at or under
    /// the threshold, best first, at most k.
    /// </summary>
    private V1.FaceMatches IdentifyFused(string collection, EmbeddingModel model, in FaceVector primary, in FaceVector secondary, int topK, int ef, float threshold)
    {
        var candidates = new Neighbor[topK * RerankFactor];
        int found = Database.Search(collection, primary, candidates, ef);
        var scored = new List<(float Distance, long FaceId, string PersonId)>(found);
        foreach (var neighbor in candidates.AsSpan(0, found))
        {
            // A face deleted or moved since the index answered is skipped, never reported.
            if (Database.TryGetFace(neighbor.Id, out var face) && face.Collection == collection)
            {
                float distance = Codes.Distance(model, primary, secondary, face.Vector, face.SecondaryVector);
                if (distance <= threshold)
                {
                    scored.Add((distance, neighbor.Id, face.PersonId));
                }
            }
        }

        scored.Sort((x, y) => x.Distance != y.Distance ? x.Distance.CompareTo(y.Distance) : x.FaceId.CompareTo(y.FaceId));
        var matches = new V1.FaceMatches();
        foreach (var (distance, faceId, personId) in scored.Take(topK))
        {
            matches.Matches.Add(new V1.Match
            {
                PersonId = personId,
                FaceId = (ulong)faceId,
                Distance = distance,
                Similarity = Similarity.CosineFromDistance(distance),
            });
        }

        matches.Unknown = matches.Matches.Count == 0;
        GroupByPerson(matches);
        metrics.Searched(!matches.Unknown);
        ServerTelemetry.FacesSearched.Add(1, new KeyValuePair<string, object?>("collection", collection), new KeyValuePair<string, object?>("outcome", matches.Unknown ? "unknown" : "match"));
        return matches;
    }
}

/// <summary>Distances between faces given by their codes under a registered model.</summary>
internal static class Codes
{
    /// <summary>
    /// The model's distance: squared L2 of the single code, or the fused distance of both codes. A stored face
    /// of a fused collection without its second code (which the server never writes) counts as no match (4).
    /// </summary>
    public static float Distance(EmbeddingModel model, in FaceVector a, FaceVector? aSecondary, in FaceVector b, FaceVector? bSecondary)
    {
        if (model.Fusion is not { } fusion)
        {
            return Similarity.Distance(a, b);
        }

        return aSecondary is { } a2 && bSecondary is { } b2 ? fusion.Distance(a, a2, b, b2) : 4f;
    }
}
