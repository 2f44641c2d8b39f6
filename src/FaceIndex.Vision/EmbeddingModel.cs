using FaceIndex.Core;

namespace FaceIndex.Vision;

/// <summary>An embedding network the pipeline can run.</summary>
public enum EmbedderKind
{
    /// <summary>fr_feature.onnx: 112×112 ArcFace-aligned face → 512-D, projected to 128-D by PCA.</summary>
    Fr512,

    /// <summary>The dlib ResNet (converted from face-api.js weights): 150×150 dlib chip → 128-D.</summary>
    Dlib128,
}

/// <summary>The embedders' names in models.json and in code-map artifacts ("fr512", "dlib128").</summary>
public static class EmbedderNames
{
    /// <summary>The name of an embedder.</summary>
    public static string Of(EmbedderKind kind) => kind switch
    {
        EmbedderKind.Fr512 => "fr512",
        EmbedderKind.Dlib128 => "dlib128",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown embedder."),
    };

    /// <summary>The embedder of a name, if it is one.</summary>
    public static bool TryParse(string name, out EmbedderKind kind)
    {
        foreach (var candidate in Enum.GetValues<EmbedderKind>())
        {
            if (string.Equals(Of(candidate), name, StringComparison.Ordinal))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }
}

/// <summary>
/// One entry of the model registry (model-bundle/models.json): the version tag a collection and every
/// stored code carry, the embedders that make its codes, how faces are aligned and normalised for them,
/// the code, and the default thresholds. A face of a model with two embedders (a fused model) has two
/// codes: the first is searched, both are compared by <see cref="Fusion"/> to re-rank the candidates.
/// </summary>
public sealed class EmbeddingModel
{
    /// <summary>The version tag, e.g. "fr512-pca128-v1", "dlib128-v1", "fused-v1".</summary>
    public required string Id { get; init; }

    /// <summary>The embedders whose codes a face of this model holds, in storage order; the first is searched.</summary>
    public required IReadOnlyList<EmbedderKind> Embedders { get; init; }

    /// <summary>The alignment template, in words.</summary>
    public required string Alignment { get; init; }

    /// <summary>The input normalisation, in words.</summary>
    public required string Preprocessing { get; init; }

    /// <summary>The stored code, in words.</summary>
    public required string Code { get; init; }

    /// <summary>Default verification threshold (squared L2; for a fused model, the fused distance).</summary>
    public required float VerificationThreshold { get; init; }

    /// <summary>Default open-set search threshold (squared L2 at a false-accept rate of 0.1 % per comparison on celeba-dev).</summary>
    public required float IdentificationThreshold { get; init; }

    /// <summary>The score fusion of a two-code model; null for a single-code model.</summary>
    public ScoreFusion? Fusion { get; init; }

    /// <summary>
    /// Search thresholds for gallery sizes and FPIR targets measured for this model (models.json, "openSet"); null
    /// when not measured (the default model's grid is the manifest's, <see cref="FacePipeline.OpenSet"/>).
    /// </summary>
    public OpenSetCalibration? OpenSet { get; init; }

    /// <summary>Number of 128-byte codes per face.</summary>
    public int CodesPerFace => Embedders.Count;

    /// <summary>Whether the model's faces need the given embedder.</summary>
    public bool Uses(EmbedderKind kind) => Embedders.Contains(kind);

    /// <summary>
    /// Distance between two faces of this model, each given by its <see cref="CodesPerFace"/> codes:
    /// squared L2 of the single code, or the fused distance.
    /// </summary>
    public float Distance(ReadOnlySpan<FaceVector> a, ReadOnlySpan<FaceVector> b)
    {
        if (a.Length != CodesPerFace || b.Length != CodesPerFace)
        {
            throw new ArgumentException($"Model {Id} compares faces of {CodesPerFace} code(s); got {a.Length} and {b.Length}.");
        }

        return Fusion is { } fusion ? fusion.Distance(a[0], a[1], b[0], b[1]) : Similarity.Distance(a[0], b[0]);
    }
}
