using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using FaceIndex.Core;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The verified model bundle: the manifest (model-bundle/manifest.json), the three ONNX files it
/// pins by SHA-256, and the projection artifact. Every file is checked against the manifest on load.
/// </summary>
internal sealed class ModelBundle
{
    /// <summary>The command that repairs a missing or corrupt model folder.</summary>
    public const string FetchCommand = "bash scripts/fetch-models.sh (or: faceindex models fetch)";

    private const string ResourcePrefix = "FaceIndex.Vision.Bundle.";
    private const string ManifestFile = "manifest.json";

    private readonly Dictionary<ModelEntry, ModelSource> _sources;

    private ModelBundle(BundleManifest manifest, string modelsDirectory, Projection? projection, Dictionary<ModelEntry, ModelSource> sources)
    {
        Manifest = manifest;
        ModelsDirectory = modelsDirectory;
        Projection = projection;
        _sources = sources;
    }

    /// <summary>The parsed manifest.</summary>
    public BundleManifest Manifest { get; }

    /// <summary>The folder the ONNX files were verified in.</summary>
    public string ModelsDirectory { get; }

    /// <summary>The 512 → 128 projection, or null when loaded without one (fitting a new projection).</summary>
    public Projection? Projection { get; }

    /// <summary>Path of a verified model file as published.</summary>
    public string ModelPath(ModelEntry entry) => Path.Combine(ModelsDirectory, entry.File);

    /// <summary>What a session loads for the model: its dynamic-batch rewrite when the manifest names one, else the file as published.</summary>
    public ModelSource Source(ModelEntry entry) => _sources[entry];

    /// <summary>Loads the manifest, verifies the three models and (when required) the projection.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: a file is absent or does not match its checksum.</exception>
    public static ModelBundle Load(string modelsDirectory, string? bundleDirectory, bool requireProjection)
    {
        var manifestBytes = ReadBundleFile(bundleDirectory, ManifestFile)
            ?? throw Missing($"The model manifest {ManifestFile} is missing from {DescribeBundle(bundleDirectory)}.");
        BundleManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(manifestBytes, BundleJsonContext.Default.BundleManifest)
                ?? throw new JsonException("empty manifest");
        }
        catch (JsonException ex)
        {
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The model manifest in {DescribeBundle(bundleDirectory)} is not valid JSON: {ex.Message}", ex);
        }

        if (manifest.Verification.DefaultThreshold is not (> 0f and < 4f))
        {
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The model manifest in {DescribeBundle(bundleDirectory)} gives verification.defaultThreshold {manifest.Verification.DefaultThreshold}; a squared L2 distance between unit vectors lies in (0, 4). Restore model-bundle/ from git.");
        }

        if (manifest.Identification.Threshold is not (> 0f and < 4f))
        {
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The model manifest in {DescribeBundle(bundleDirectory)} gives identification.threshold {manifest.Identification.Threshold}; a squared L2 distance between unit vectors lies in (0, 4). Restore model-bundle/ from git.");
        }

        var sources = new Dictionary<ModelEntry, ModelSource>();
        foreach (var entry in new[] { manifest.Models.Detector, manifest.Models.Landmarks, manifest.Models.Embedder })
        {
            VerifyModelFile(Path.Combine(modelsDirectory, entry.File), entry.Sha256);
            sources[entry] = entry.DynamicBatch is null
                ? new ModelSource(entry.File, Path.Combine(modelsDirectory, entry.File), null)
                : Derive(modelsDirectory, entry);
        }

        Projection? projection = null;
        if (requireProjection)
        {
            var spec = manifest.Projection;
            var bytes = ReadBundleFile(bundleDirectory, spec.File)
                ?? throw Missing($"The projection artifact {spec.File} is missing from {DescribeBundle(bundleDirectory)}; re-create it with: faceindex models fit-projection ../shared/faces/lfw-disjoint");
            var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (!string.Equals(actual, spec.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw Missing($"The projection artifact {spec.File} has SHA-256 {actual} but the manifest pins {spec.Sha256}: it is corrupt or from another bundle. Restore model-bundle/ from git, or re-fit with: faceindex models fit-projection ../shared/faces/lfw-disjoint");
            }

            projection = Projection.Read(bytes);
            if (projection.InputDimensions != spec.InputDimensions || projection.OutputDimensions != spec.OutputDimensions)
            {
                throw Missing($"The projection artifact {spec.File} maps {projection.InputDimensions} → {projection.OutputDimensions}, the manifest says {spec.InputDimensions} → {spec.OutputDimensions}.");
            }
        }

        return new ModelBundle(manifest, modelsDirectory, projection, sources);
    }

    /// <summary>
    /// The dynamic-batch rewrite of a verified model: read from the models folder when it is there with its
    /// pinned SHA-256, else derived from the published file (<see cref="DynamicBatchRewriter"/>), checked
    /// against the pinned SHA-256 and cached in the models folder for the next start (kept in memory
    /// only when the folder is read-only). The rewrite is a pure function of the pinned file, so a clean
    /// checkout needs nothing beyond the fetched models.
    /// </summary>
    /// <exception cref="FaceIndexException">ModelMissing: the rewrite does not give the pinned bytes.</exception>
    internal static ModelSource Derive(string modelsDirectory, ModelEntry entry)
    {
        var derived = entry.DynamicBatch ?? throw new ArgumentException($"{entry.File} has no dynamic-batch entry.", nameof(entry));
        var target = Path.Combine(modelsDirectory, derived.File);
        if (File.Exists(target))
        {
            var cached = File.ReadAllBytes(target);
            if (string.Equals(Convert.ToHexStringLower(SHA256.HashData(cached)), derived.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return new ModelSource(derived.File, target, cached);
            }
        }

        var bytes = DynamicBatchRewriter.Rewrite(File.ReadAllBytes(Path.Combine(modelsDirectory, entry.File)));
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, derived.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw Missing($"The dynamic-batch rewrite of {entry.File} has SHA-256 {actual} but the manifest pins {derived.Sha256} for {derived.File}: the rewrite and the manifest disagree. Restore model-bundle/ from git (or, after a deliberate change to the rewrite, pin the new checksum).");
        }

        try
        {
            var staging = $"{target}.{Environment.ProcessId}.partial";
            File.WriteAllBytes(staging, bytes);
            File.Move(staging, target, overwrite: true);
            return new ModelSource(derived.File, target, bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ModelSource(derived.File, null, bytes);
        }
    }

    /// <summary>Reads a file of the bundle: from the folder when given, else from the assembly's embedded copy.</summary>
    internal static byte[]? ReadBundleFile(string? bundleDirectory, string file)
    {
        if (bundleDirectory is not null)
        {
            var path = Path.Combine(bundleDirectory, file);
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }

        using var stream = typeof(ModelBundle).Assembly.GetManifestResourceStream(ResourcePrefix + file);
        if (stream is null)
        {
            return null;
        }

        var buffer = new byte[stream.Length];
        stream.ReadExactly(buffer);
        return buffer;
    }

    private static void VerifyModelFile(string path, string expectedSha256)
    {
        if (!File.Exists(path))
        {
            throw Missing($"The model file {path} is missing. Fetch the models with: {FetchCommand}.");
        }

        using var stream = File.OpenRead(path);
        var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw Missing($"The model file {path} has SHA-256 {actual} but the manifest pins {expectedSha256}: it is corrupt or another version. Re-fetch the models with: {FetchCommand}.");
        }
    }

    private static string DescribeBundle(string? bundleDirectory) =>
        bundleDirectory ?? $"the bundle embedded in {Assembly.GetExecutingAssembly().GetName().Name}";

    private static FaceIndexException Missing(string message) => new(FaceIndexError.ModelMissing, message);
}
