using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceIndex.Cli.Evaluation;
using FaceIndex.Core;
using FaceIndex.Evaluation;

namespace FaceIndex.Cli.Commands;

/// <summary>Fits the PCA projection on image embeddings, writes the artifact and pins its SHA-256 in the manifest.</summary>
internal sealed class ProjectionFitCommand
{
    private readonly string _output;
    private readonly string _manifest;
    private readonly int _dimensions;

    public ProjectionFitCommand(string output, string manifest, int dimensions)
    {
        _output = output;
        _manifest = manifest;
        _dimensions = dimensions;
    }

    public void Run(Dictionary<string, ImageEmbedding> embeddings, int imageCount, Action<string> log)
    {
        // Ordinal order of the files makes the fit reproducible.
        var samples = embeddings.OrderBy(e => e.Key, StringComparer.Ordinal)
            .Where(e => e.Value.Outcome != ImageOutcome.Unreadable)
            .Select(e => e.Value.Plain)
            .ToList();
        int centre = embeddings.Values.Count(e => e.Outcome == ImageOutcome.CentreCrop);
        int unreadable = embeddings.Values.Count(e => e.Outcome == ImageOutcome.Unreadable);
        if (samples.Count <= _dimensions)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, $"Fitting {_dimensions} dimensions needs more than {_dimensions} readable images; found {samples.Count}.");
        }

        var projection = PcaFitter.Fit(samples, _dimensions);
        var bytes = projection.ToBytes();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_output))!);
        File.WriteAllBytes(_output, bytes);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        var manifest = JsonNode.Parse(File.ReadAllText(_manifest))!;
        var entry = manifest["projection"]!;
        entry["file"] = Path.GetFileName(_output);
        entry["sha256"] = sha;
        entry["outputDimensions"] = _dimensions;
        entry["samples"] = samples.Count;
        File.WriteAllText(_manifest, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        var kept = PcaFitter.ExplainedVariance(projection, samples);
        log(string.Create(CultureInfo.InvariantCulture, $"fit-projection: {imageCount} images, {samples.Count} used ({centre} centre crops, {unreadable} unreadable)"));
        log(string.Create(CultureInfo.InvariantCulture, $"fit-projection: 512 → {_dimensions} keeps {kept:P1} of the variance"));
        log($"fit-projection: wrote {_output} (SHA-256 {sha}) and updated {_manifest}; rebuild so the embedded bundle picks it up.");
    }
}
