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
    private readonly string? _bundleDirectory;
    private readonly IReadOnlyList<MigrationEntry> _migrations;
    private readonly Dictionary<(EmbedderKind, EmbedderKind), CodeMap> _maps = [];

    private ModelRegistry(IReadOnlyList<EmbeddingModel> models, string defaultId, DlibSpec dlib, string? bundleDirectory, IReadOnlyList<MigrationEntry> migrations)
    {
        Models = models;
        _byId = models.ToDictionary(m => m.Id, StringComparer.Ordinal);
        Default = _byId[defaultId];
        Dlib = dlib;
        _bundleDirectory = bundleDirectory;
        _migrations = migrations;
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
                OpenSet = entry.OpenSet is { } grid ? Calibration(entry.Id, grid) : null,
            });
        }

        if (models.Select(m => m.Id).Distinct(StringComparer.Ordinal).Count() != models.Count || !models.Any(m => m.Id == file.Default))
        {
            throw Invalid($"model tags must be unique and the default '{file.Default}' must be one of them");
        }

        var migrations = file.Migrations ?? [];
        foreach (var migration in migrations)
        {
            if (!EmbedderNames.TryParse(migration.From, out _) || !EmbedderNames.TryParse(migration.To, out _) || migration.From == migration.To)
            {
                throw Invalid($"the code map {migration.File} must map one known embedder to another (got '{migration.From}' → '{migration.To}')");
            }
        }

        return new ModelRegistry(models, file.Default, file.Dlib, bundleDirectory, migrations);
    }

    /// <summary>
    /// The code map from one embedder's space into another's (model-bundle/models.json, "migrations"),
    /// read and checked against its pinned SHA-256 on first use; null when the bundle has none.
    /// </summary>
    /// <exception cref="FaceIndexException">ModelMissing: the artifact is missing, altered or invalid.</exception>
    public CodeMap? GetMap(EmbedderKind from, EmbedderKind to)
    {
        lock (_maps)
        {
            if (_maps.TryGetValue((from, to), out var cached))
            {
                return cached;
            }

            var entry = _migrations.FirstOrDefault(m => m.From == EmbedderNames.Of(from) && m.To == EmbedderNames.Of(to));
            if (entry is null)
            {
                return null;
            }

            var bytes = ModelBundle.ReadBundleFile(_bundleDirectory, entry.File)
                ?? throw new FaceIndexException(FaceIndexError.ModelMissing, $"The code map {entry.File} named in {File} is missing from the model bundle. Restore model-bundle/ from git.");
            var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new FaceIndexException(FaceIndexError.ModelMissing, $"The code map {entry.File} has SHA-256 {actual} but {File} pins {entry.Sha256}: it is corrupt or from another bundle. Restore model-bundle/ from git.");
            }

            var map = CodeMap.Read(bytes);
            if (map.From != from || map.To != to)
            {
                throw new FaceIndexException(FaceIndexError.ModelMissing, $"The code map {entry.File} maps {EmbedderNames.Of(map.From)} → {EmbedderNames.Of(map.To)}; {File} says {entry.From} → {entry.To}. Restore model-bundle/ from git.");
            }

            _maps[(from, to)] = map;
            return map;
        }
    }

    /// <summary>
    /// How a face's codes under <paramref name="from"/> become its codes under <paramref name="to"/>: a
    /// code of an embedder both models use is kept, any other is mapped from the source model's first
    /// code by the bundle's code map.
    /// </summary>
    /// <exception cref="FaceIndexException">InvalidArgument: the models are the same. ModelMismatch: a code map the plan needs is not in the bundle.</exception>
    public ModelMigration PlanMigration(EmbeddingModel from, EmbeddingModel to)
    {
        if (from.Id == to.Id)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, $"The collection's model is {from.Id} already; name another model to migrate to ({Names}).");
        }

        var steps = new ModelMigration.Step[to.CodesPerFace];
        for (int i = 0; i < steps.Length; i++)
        {
            var embedder = to.Embedders[i];
            int kept = IndexOf(from.Embedders, embedder);
            if (kept >= 0)
            {
                steps[i] = new ModelMigration.Step(kept, null);
                continue;
            }

            if (to.CodesPerFace > 1)
            {
                throw new FaceIndexException(
                    FaceIndexError.ModelMismatch,
                    $"A collection of {from.Id} cannot become a {to.Id} collection without its images: {to.Id} compares both networks' codes, and a mapped {EmbedderNames.Of(embedder)} code would make it less accurate than {from.Id} alone. Re-enrol the images into a new {to.Id} collection.");
            }

            var map = GetMap(from.Embedders[0], embedder)
                ?? throw new FaceIndexException(
                    FaceIndexError.ModelMismatch,
                    $"Migrating from {from.Id} to {to.Id} needs a code map from {EmbedderNames.Of(from.Embedders[0])} to {EmbedderNames.Of(embedder)}, which the model bundle does not have ({MapNames}). Fit one with: faceindex models fit-migration.");
            steps[i] = new ModelMigration.Step(0, map);
        }

        // A mapped code compared with a code of the target model: the thresholds measured for that comparison.
        var mapped = steps.Select(s => s.Map).FirstOrDefault(m => m is not null);
        var entry = mapped is null ? null : _migrations.First(m => m.From == EmbedderNames.Of(mapped.From) && m.To == EmbedderNames.Of(mapped.To));
        return new ModelMigration(from, to, steps)
        {
            VerificationThreshold = entry is { VerificationThreshold: > 0f and < 4f } ? entry.VerificationThreshold : to.VerificationThreshold,
            IdentificationThreshold = entry is { IdentificationThreshold: > 0f and < 4f } ? entry.IdentificationThreshold : to.IdentificationThreshold,
        };
    }

    private string MapNames => _migrations.Count == 0 ? "it has none" : "it has " + string.Join(", ", _migrations.Select(m => $"{m.From} → {m.To}"));

    private static int IndexOf(IReadOnlyList<EmbedderKind> embedders, EmbedderKind kind)
    {
        for (int i = 0; i < embedders.Count; i++)
        {
            if (embedders[i] == kind)
            {
                return i;
            }
        }

        return -1;
    }

    private static OpenSetCalibration Calibration(string model, OpenSetGrid grid)
    {
        try
        {
            return grid.ToCalibration();
        }
        catch (ArgumentException ex)
        {
            throw Invalid($"model {model}'s openSet grid is invalid: {ex.Message}");
        }
    }

    private static EmbedderKind ParseEmbedder(string name) =>
        EmbedderNames.TryParse(name, out var kind) ? kind : throw Invalid($"unknown embedder '{name}'");

    private static FaceIndexException Invalid(string why) =>
        new(FaceIndexError.ModelMissing, $"The model registry {File} is invalid: {why}. Restore model-bundle/ from git.");
}

/// <summary>models.json.</summary>
internal sealed class RegistryFile
{
    public required string Default { get; init; }

    public required DlibSpec Dlib { get; init; }

    public required RegistryEntry[] Models { get; init; }

    /// <summary>Absent in a registry without code maps.</summary>
    public MigrationEntry[]? Migrations { get; init; }
}

/// <summary>A code map between two embedders' spaces (model-bundle/, pinned by SHA-256).</summary>
internal sealed class MigrationEntry
{
    public required string From { get; init; }

    public required string To { get; init; }

    public required string File { get; init; }

    public required string Sha256 { get; init; }

    public string FittedOn { get; init; } = "";

    /// <summary>Verify's threshold for a mapped code against a code of the target model (0: the target model's own).</summary>
    public float VerificationThreshold { get; init; }

    /// <summary>Search's threshold for the same comparison (0: the target model's own).</summary>
    public float IdentificationThreshold { get; init; }

    public string ChosenOn { get; init; } = "";
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

    /// <summary>The model's search-threshold grid (as the manifest's identification.openSet); absent when not measured.</summary>
    public OpenSetGrid? OpenSet { get; init; }
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
