using System.Text.Json;
using System.Text.Json.Serialization;
using FaceIndex.Core;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision;

/// <summary>
/// The embedding models a collection can be created with (model-bundle/models.json, embedded in the
/// Vision assembly as the manifest is): their tags, embedders, alignment, code and thresholds, and the
/// default model of new collections.
/// </summary>
public sealed class ModelRegistry
{
    private const string File = "models.json";
    private readonly Dictionary<string, EmbeddingModel> _byId;

    private ModelRegistry(IReadOnlyList<EmbeddingModel> models, string defaultId, DlibSpec dlib)
    {
        Models = models;
        _byId = models.ToDictionary(m => m.Id, StringComparer.Ordinal);
        Default = _byId[defaultId];
        Dlib = dlib;
    }

    /// <summary>Every registered model.</summary>
    public IReadOnlyList<EmbeddingModel> Models { get; }

    /// <summary>The model of a collection created without naming one.</summary>
    public EmbeddingModel Default { get; }

    /// <summary>Tags of every registered model, comma-separated (for messages).</summary>
    public string Names => string.Join(", ", Models.Select(m => m.Id));

    internal DlibSpec Dlib { get; }

    /// <summary>The pinned SHA-256 of the converted dlib model (models/dlib128.onnx).</summary>
    public string DlibModelSha256 => Dlib.Sha256;

    /// <summary>The model with this tag, if registered.</summary>
    public bool TryGet(string id, out EmbeddingModel model) => _byId.TryGetValue(id, out model!);

    /// <summary>The model with this tag; an empty tag gives <see cref="Default"/>.</summary>
    /// <exception cref="FaceIndexException">InvalidArgument: no model has this tag.</exception>
    public EmbeddingModel Get(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return Default;
        }

        return TryGet(id, out var model)
            ? model
            : throw new FaceIndexException(FaceIndexError.InvalidArgument, $"Unknown model '{id}'; the registered models are {Names}.");
    }

    /// <summary>Reads models.json from the bundle folder, or from the copy embedded in the assembly.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: the file is absent or invalid.</exception>
    public static ModelRegistry Load(string? bundleDirectory)
    {
        var bytes = ModelBundle.ReadBundleFile(bundleDirectory, File)
            ?? throw new FaceIndexException(FaceIndexError.ModelMissing, $"The model registry {File} is missing from the model bundle. Restore model-bundle/ from git.");
        RegistryFile file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.RegistryFile) ?? throw new JsonException("empty file");
        }
        catch (JsonException ex)
        {
            throw Invalid($"it is not valid JSON: {ex.Message}");
        }

        var models = new List<EmbeddingModel>();
        foreach (var entry in file.Models)
        {
            if (entry.Embedders.Length is < 1 or > 2 || (entry.Embedders.Length == 2) != (entry.Fusion is not null))
            {
                throw Invalid($"model {entry.Id} must have one embedder, or two with fusion parameters");
            }

            if (entry.VerificationThreshold is not (> 0f and < 4f) || entry.IdentificationThreshold is not (> 0f and < 4f))
            {
                throw Invalid($"model {entry.Id}'s thresholds must lie in (0, 4)");
            }

            var fusion = entry.Fusion is { } f ? new ScoreFusion(f.PrimaryMean, f.PrimaryStd, f.SecondaryMean, f.SecondaryStd, f.SecondaryWeight) : (ScoreFusion?)null;
            if (fusion is { IsValid: false })
            {
                throw Invalid($"model {entry.Id}'s fusion parameters are out of range");
            }

            models.Add(new EmbeddingModel
            {
                Id = entry.Id,
                Embedders = entry.Embedders.Select(ParseEmbedder).ToArray(),
                Alignment = entry.Alignment,
                Preprocessing = entry.Preprocessing,
                Code = entry.Code,
                VerificationThreshold = entry.VerificationThreshold,
                IdentificationThreshold = entry.IdentificationThreshold,
                Fusion = fusion,
            });
        }

        if (models.Select(m => m.Id).Distinct(StringComparer.Ordinal).Count() != models.Count || !models.Any(m => m.Id == file.Default))
        {
            throw Invalid($"model tags must be unique and the default '{file.Default}' must be one of them");
        }

        return new ModelRegistry(models, file.Default, file.Dlib);
    }

    private static EmbedderKind ParseEmbedder(string name) => name switch
    {
        "fr512" => EmbedderKind.Fr512,
        "dlib128" => EmbedderKind.Dlib128,
        _ => throw Invalid($"unknown embedder '{name}'"),
    };

    private static FaceIndexException Invalid(string why) =>
        new(FaceIndexError.ModelMissing, $"The model registry {File} is invalid: {why}. Restore model-bundle/ from git.");
}

/// <summary>models.json.</summary>
internal sealed class RegistryFile
{
    public required string Default { get; init; }

    public required DlibSpec Dlib { get; init; }

    public required RegistryEntry[] Models { get; init; }
}

/// <summary>Where the dlib ResNet's weights come from and the pinned checksum of the converted model.</summary>
internal sealed class DlibSpec
{
    public required DlibPackage Package { get; init; }

    /// <summary>File name of the converted model in the models folder.</summary>
    public required string File { get; init; }

    /// <summary>SHA-256 of the converted model.</summary>
    public required string Sha256 { get; init; }

    public string Converter { get; init; } = "";

}

/// <summary>The npm package holding the TFJS weights.</summary>
internal sealed class DlibPackage
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public required string TarballSha256 { get; init; }

    /// <summary>Path of the weights manifest inside the tarball.</summary>
    public required string WeightsManifest { get; init; }

    /// <summary>Path of the weights shard inside the tarball.</summary>
    public required string Weights { get; init; }

    public string Licence { get; init; } = "";
}

/// <summary>One model of models.json.</summary>
internal sealed class RegistryEntry
{
    public required string Id { get; init; }

    public required string[] Embedders { get; init; }

    public string Alignment { get; init; } = "";

    public string Preprocessing { get; init; } = "";

    public string Code { get; init; } = "";

    public float VerificationThreshold { get; init; }

    public float IdentificationThreshold { get; init; }

    public FusionEntry? Fusion { get; init; }
}

/// <summary>Score-fusion parameters of a two-code model.</summary>
internal sealed class FusionEntry
{
    public float PrimaryMean { get; init; }

    public float PrimaryStd { get; init; }

    public float SecondaryMean { get; init; }

    public float SecondaryStd { get; init; }

    public float SecondaryWeight { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(RegistryFile))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext;
