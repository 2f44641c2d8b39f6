using System.Drawing;
using FaceIndex.Core;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision;

public sealed partial class FacePipeline
{
    /// <summary>Share of the shorter image side taken as the face box when no face is detected (LFW-style crops).</summary>
    private const float CentreCropShare = 1f / 1.92f;

    /// <summary>
    /// The whole pipeline; with <paramref name="centreCropFallback"/>, an image without a detected
    /// face is treated as one centred face (the evaluation protocol of FaceNet on LFW).
    /// </summary>
    internal async Task<AnalysisResult> AnalyzeCoreAsync(ReadOnlyMemory<byte> image, bool centreCropFallback, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ct.ThrowIfCancellationRequested();
        var (prepared, usedFallback) = Prepare(image.Span, centreCropFallback);
        if (prepared.Count == 0)
        {
            return new AnalysisResult([], false);
        }

        var embeddings = new Task<float[]>[prepared.Count];
        for (int i = 0; i < prepared.Count; i++)
        {
            embeddings[i] = _batcher.EmbedAsync(prepared[i].Aligned, ct);
        }

        await Task.WhenAll(embeddings).ConfigureAwait(false);
        var faces = new DetectedFace[prepared.Count];
        for (int i = 0; i < prepared.Count; i++)
        {
            faces[i] = Finish(prepared[i], await embeddings[i].ConfigureAwait(false));
        }

        return new AnalysisResult(faces, usedFallback);
    }

    /// <summary>The CPU stages up to the embedding: decode, detect, landmarks, align. Largest face first.</summary>
    internal (List<PreparedFace> Faces, bool UsedFallback) Prepare(ReadOnlySpan<byte> encoded, bool centreCropFallback)
    {
        using var image = _decoder.Decode(encoded);
        var detections = _detector.Detect(image);
        bool usedFallback = false;
        if (detections.Count == 0 && centreCropFallback)
        {
            float side = Math.Min(image.Width, image.Height) * CentreCropShare;
            detections.Add(new Detection(new FaceBox((image.Width - side) / 2, (image.Height - side) / 2, side, side), 0f));
            usedFallback = true;
        }

        // Largest first; ties (equal areas) by score, so the order is deterministic.
        detections.Sort((a, b) => a.Box.Area != b.Box.Area ? b.Box.Area.CompareTo(a.Box.Area) : b.Score.CompareTo(a.Score));
        var faces = new List<PreparedFace>(detections.Count);
        foreach (var detection in detections)
        {
            var points = _landmarks.Detect(image, detection.Box);
            var aligned = new float[FaceAligner.TensorLength];
            FaceAligner.Align(image, points, aligned);
            faces.Add(new PreparedFace(detection, points, aligned));
        }

        VisionLog.ImageAnalysed(_logger, image.Width, image.Height, faces.Count);
        return (faces, usedFallback);
    }

    private DetectedFace Finish(PreparedFace face, float[] embedding512)
    {
        var embedding128 = new float[FaceVector.Dimensions];
        FaceVector vector = default;
        if (_bundle.Projection is { } projection)
        {
            projection.Apply(embedding512, embedding128);
            vector = Quantizer.QuantizeUnit(embedding128);
        }

        return new DetectedFace(face.Detection.Box, face.Detection.Score, face.Points, vector)
        {
            Embedding512 = embedding512,
            Embedding128 = embedding128,
        };
    }

    /// <summary>A face ready to embed.</summary>
    internal sealed record PreparedFace(Detection Detection, PointF[] Points, float[] Aligned);

    /// <summary>Faces of one image, and whether they came from the centre-crop fallback.</summary>
    internal sealed record AnalysisResult(IReadOnlyList<DetectedFace> Faces, bool UsedFallback);
}
