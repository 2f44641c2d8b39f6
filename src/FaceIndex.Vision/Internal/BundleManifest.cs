using System.Text.Json.Serialization;

namespace FaceIndex.Vision.Internal;

/// <summary>model-bundle/manifest.json: the pinned package, models, projection and model-version tag.</summary>
internal sealed class BundleManifest
{
    /// <summary>The tag every stored vector carries, e.g. "fr512-pca128-v1".</summary>
    public required string ModelVersion { get; init; }

    /// <summary>The npm package the models come from.</summary>
    public required PackageEntry Package { get; init; }

    /// <summary>The three ONNX models.</summary>
    public required ModelSet Models { get; init; }

    /// <summary>The 512 → 128 projection artifact.</summary>
    public required ProjectionEntry Projection { get; init; }

    /// <summary>The default verification threshold of the 128-byte code and where it was chosen.</summary>
    public required VerificationEntry Verification { get; init; }

    /// <summary>The default open-set search threshold (at a fixed false-accept rate) and where it was chosen.</summary>
    public required IdentificationEntry Identification { get; init; }
}

/// <summary>The model-specific default match threshold of a search, chosen at a fixed false-accept rate on a development set.</summary>
internal sealed class IdentificationEntry
{
    /// <summary>Squared L2 distance at or under which a search candidate matches.</summary>
    public required float Threshold { get; init; }

    /// <summary>The false-accept rate per comparison the threshold was chosen at.</summary>
    public required double Far { get; init; }

    /// <summary>The development pair list it was chosen on.</summary>
    public required string ChosenOn { get; init; }
}

/// <summary>The model-specific default decision threshold, chosen with the evaluator on a development set.</summary>
internal sealed class VerificationEntry
{
    /// <summary>Squared L2 distance between unit vectors (see Core's Similarity) at or under which two faces match.</summary>
    public required float DefaultThreshold { get; init; }

    /// <summary>The representation the threshold is for, e.g. "int8-128".</summary>
    public required string Code { get; init; }

    /// <summary>The development pair list it was chosen on, e.g. "../shared/faces/celeba-dev/pairs.txt".</summary>
    public required string ChosenOn { get; init; }

    /// <summary>How it was chosen (the evaluator command).</summary>
    public string Command { get; init; } = "";
}

/// <summary>The npm package pinned by tarball checksum.</summary>
internal sealed class PackageEntry
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public required string TarballSha256 { get; init; }

    /// <summary>Folder of the model files inside the tarball, e.g. "package/model/".</summary>
    public required string ModelPathInTarball { get; init; }
}

/// <summary>Detector, landmark and embedding models.</summary>
internal sealed class ModelSet
{
    public required ModelEntry Detector { get; init; }

    public required ModelEntry Landmarks { get; init; }

    public required ModelEntry Embedder { get; init; }
}

/// <summary>One ONNX file with its checksum and documented input.</summary>
internal sealed class ModelEntry
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public int[] InputShape { get; init; } = [];

    public string Normalisation { get; init; } = "";

    /// <summary>The dynamic-batch rewrite of this model (<see cref="DynamicBatchRewriter"/>), or null when it runs as published.</summary>
    public DerivedModelEntry? DynamicBatch { get; init; }
}

/// <summary>A model file derived from a pinned one by FaceIndex's own code, pinned by the SHA-256 of the result.</summary>
internal sealed class DerivedModelEntry
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    /// <summary>What the derivation does, for people reading the manifest.</summary>
    public string How { get; init; } = "";
}

/// <summary>The projection artifact entry.</summary>
internal sealed class ProjectionEntry
{
    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public int InputDimensions { get; init; }

    public int OutputDimensions { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(BundleManifest))]
internal sealed partial class BundleJsonContext : JsonSerializerContext;
