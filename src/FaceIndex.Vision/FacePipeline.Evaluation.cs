using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision;

/// <summary>The raw embedding of an evaluation image's subject, and of its mirror image when asked for.</summary>
/// <param name="UsedCentreCrop">No face was detected, and the centre crop was embedded instead (FaceNet's LFW protocol).</param>
/// <param name="Plain">The unit embedding of the chosen face, in the model's own dimension.</param>
/// <param name="Mirrored">The unit embedding of its mirror image, or null when not asked for.</param>
public sealed record SubjectEmbedding(bool UsedCentreCrop, float[] Plain, float[]? Mirrored);

public sealed partial class FacePipeline
{
    /// <summary>Names the rule of <see cref="EmbedSubjectAsync"/>'s face choice, for caches keyed by it.</summary>
    public const string SubjectRule = "nearest-centre";

    /// <summary>
    /// Embeds the subject of an evaluation image: evaluation sets (LFW, CelebA crops) are centred on
    /// their subject, so the face whose box centre is nearest the image centre; the centre crop when no
    /// face is detected. The raw model embeddings (before projection) of the face and, when
    /// <paramref name="mirror"/>, of its mirror image come from one batch.
    /// </summary>
    /// <exception cref="FaceIndex.Core.FaceIndexException">The image is unreadable, truncated, too large or too small.</exception>
    public async Task<SubjectEmbedding> EmbedSubjectAsync(ReadOnlyMemory<byte> encoded, bool mirror, CancellationToken ct = default)
    {
        var prepared = Prepare(encoded.Span, centreCropFallback: true);
        try
        {
            var face = prepared.Faces[NearestCentre(prepared)];
            float[][] tensors = [face.Aligned];
            if (mirror)
            {
                var mirrored = new float[FaceAligner.TensorLength];
                FaceAligner.Mirror(face.Aligned, mirrored);
                tensors = [face.Aligned, mirrored];
            }

            var embeddings = await EmbedAlignedAsync(tensors, flip: false, ct).ConfigureAwait(false);
            return new SubjectEmbedding(prepared.UsedFallback, embeddings[0], mirror ? embeddings[1] : null);
        }
        finally
        {
            foreach (var face in prepared.Faces)
            {
                face.Release();
            }
        }
    }

    /// <summary>Combines the embeddings of a face and its mirror image into the flip-averaged unit embedding, in place, as FlipAveraging does.</summary>
    public static void CombineFlip(Span<float> plain, ReadOnlySpan<float> mirrored) => FaceEmbedder.CombineFlip(plain, mirrored);

    /// <summary>The face whose box centre is nearest the image centre (the first, i.e. largest, of equally near ones).</summary>
    internal static int NearestCentre(PreparedImage image)
    {
        float cx = image.Width / 2f, cy = image.Height / 2f;
        int best = 0;
        float bestDistance = float.PositiveInfinity;
        for (int i = 0; i < image.Faces.Count; i++)
        {
            var box = image.Faces[i].Detection.Box;
            float dx = box.X + (box.Width / 2) - cx, dy = box.Y + (box.Height / 2) - cy;
            float distance = (dx * dx) + (dy * dy);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (i, distance);
            }
        }

        return best;
    }
}
