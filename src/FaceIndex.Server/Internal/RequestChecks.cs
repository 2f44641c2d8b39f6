using FaceIndex.Core;
using FaceIndex.Storage;
using V1 = FaceIndex.Protocol.V1;

namespace FaceIndex.Server.Internal;

/// <summary>
/// The checks of request fields that the single-node and the cluster services share, so that both
/// refuse the same input with the same reason.
/// </summary>
internal static class RequestChecks
{
    /// <summary>Bounds of a squared norm of a valid code: a quantized unit vector has |v|² ≈ 127².</summary>
    private const int MinSquaredNorm = (int)(0.8 * 127 * 127);
    private const int MaxSquaredNorm = (int)(1.2 * 127 * 127);

    /// <summary>Checks a client's vector against a collection: 128 bytes, components in [−127, 127], unit scale, the collection's model.</summary>
    public static FaceVector Vector(V1.FaceVector message, string collection, string collectionModel)
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
                $"A face vector names the model that made it (model_version); collection '{collection}' holds vectors of '{collectionModel}'.");
        }

        if (!string.Equals(message.ModelVersion, collectionModel, StringComparison.Ordinal))
        {
            Errors.Throw(
                FaceIndexError.ModelMismatch,
                $"The vector was made by model '{message.ModelVersion}'; collection '{collection}' holds vectors of '{collectionModel}'.");
        }

        return vector;
    }

    /// <summary>The person id of a request, which must not be empty.</summary>
    /// <summary>The largest of an image's faces (they come largest first), or NoFace naming the image.</summary>
    public static Vision.DetectedFace LargestFace(IReadOnlyList<Vision.DetectedFace> faces, string which)
    {
        if (faces.Count == 0)
        {
            Errors.Throw(FaceIndexError.NoFace, $"No face was found in {which}.");
        }

        return faces[0];
    }

    /// <summary>Completes a Verify reply from its distance: the similarity, and same/different at the threshold.</summary>
    public static V1.VerifyResponse Verdict(V1.VerifyResponse response, float threshold)
    {
        response.Similarity = Similarity.CosineFromDistance(response.Distance);
        response.Same = response.Distance <= threshold;
        return response;
    }

    /// <summary>The requested threshold, or <paramref name="fallback"/>; a squared L2 distance in [0, 4] (InvalidArgument otherwise).</summary>
    public static float Threshold(bool has, float requested, float fallback)
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

    public static string PersonId(string personId)
    {
        if (string.IsNullOrEmpty(personId))
        {
            Errors.ThrowInvalid("The person_id must not be empty.");
        }

        Validation.Length(personId, "person_id", FaceStore.MaxPersonIdBytes);
        return personId;
    }

    /// <summary>The metadata an UpdatePerson leaves: merged into (or, with replace_metadata, replacing) the person's, keys removed first.</summary>
    public static Dictionary<string, string> UpdatedMetadata(IReadOnlyDictionary<string, string> current, V1.UpdatePersonRequest request)
    {
        var metadata = request.ReplaceMetadata
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(current, StringComparer.Ordinal);
        foreach (var key in request.RemoveMetadataKeys)
        {
            metadata.Remove(key);
        }

        foreach (var (key, value) in request.Metadata)
        {
            metadata[key] = value;
        }

        return metadata;
    }
}
