using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FaceIndex.Cli.Evaluation;
using FaceIndex.Core;
using FaceIndex.Evaluation;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex models fit-migration IMAGES --from fr512 --to dlib128</c>: fits the code map that lets a
/// collection of one model be searched with another without its images (FaceNet's harmonic
/// embeddings; <see cref="CodeMapFitter"/>), writes it to the model bundle and pins it in models.json,
/// and with <c>--eval PAIRS</c> reports cross-model verification (a mapped old code against a new
/// code) beside each model's own accuracy, by LFW's 10-fold protocol. Fitted on lfw-disjoint and
/// evaluated on celeba-dev, whose identities it never saw.
/// </summary>
internal static class MigrationFitCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var images = new Argument<string>("IMAGES") { Description = "Folder of face images in one folder per identity to fit on, e.g. ../shared/faces/lfw-disjoint" };
        var from = new Option<string>("--from") { Description = "Source embedder: fr512 or dlib128", Required = true };
        var to = new Option<string>("--to") { Description = "Target embedder: dlib128 or fr512", Required = true };
        var eval = new Option<string?>("--eval") { Description = "Pair list to report cross-model verification on (LFW pairs.txt format), e.g. ../shared/faces/celeba-dev/pairs.txt" };
        var registry = new Option<string>("--registry") { Description = "The models.json to pin the map in", DefaultValueFactory = _ => "model-bundle/models.json" };
        var noWrite = new Option<bool>("--no-write") { Description = "Fit and report without writing the map or models.json" };
        var cache = new Option<string>("--cache") { Description = "Folder of the embedding cache", DefaultValueFactory = _ => ".cache/eval" };
        var vision = new VisionCliOptions();
        var fit = new Command("fit-migration", "Fit the code map from one embedder's codes to another's (ridge least squares on faces embedded by both), write it to the model bundle, and report cross-model verification.");
        fit.Add(images);
        fit.Add(from);
        fit.Add(to);
        fit.Add(eval);
        fit.Add(registry);
        fit.Add(noWrite);
        fit.Add(cache);
        vision.AddTo(fit);
        fit.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            var source = ParseEmbedder(parse.GetValue(from)!, "--from");
            var target = ParseEmbedder(parse.GetValue(to)!, "--to");
            if (source == target)
            {
                throw new ArgumentException("--from and --to name the same embedder; a code map joins two different ones.");
            }

            var options = vision.Read(parse);
            options.FlipAveraging = false;
            await using var pipeline = FacePipeline.Create(options);
            var cacheDir = parse.GetValue(cache)!;
            var inv = CultureInfo.InvariantCulture;

            var fitFiles = ImageFiles.Find(parse.GetValue(images)!);
            var fitSpaces = await EmbedAsync(console, pipeline, cacheDir, fitFiles, ct).ConfigureAwait(false);
            var usable = fitFiles.Where(f => fitSpaces.Has(f)).ToList();
            var (map, report) = CodeMapFitter.Fit(
                source,
                target,
                usable.Select(f => fitSpaces.Code(source, f)).ToList(),
                usable.Select(f => fitSpaces.Unit(target, f)).ToList(),
                usable.Select(f => Path.GetFileName(Path.GetDirectoryName(f)) ?? "").ToList());
            console.WriteLine(string.Create(inv, $"fit-migration: {EmbedderNames.Of(source)} → {EmbedderNames.Of(target)} on {usable.Count} of {fitFiles.Count} images (a face detected by both pipelines)"));
            foreach (var (ridge, cosine) in report.HeldOutCosine)
            {
                console.WriteLine(string.Create(inv, $"  ridge {ridge:G} × mean eigenvalue: held-out mean cosine (mapped vs true) {cosine:F4}{(ridge == report.Ridge ? "  ← chosen" : "")}"));
            }

            VerificationReport? cross = null;
            if (parse.GetValue(eval) is { } pairsPath)
            {
                var set = PairList.Load(pairsPath, Path.GetDirectoryName(Path.GetFullPath(pairsPath))!);
                var files = set.Pairs.SelectMany(p => new[] { p.PathA, p.PathB }).Distinct(StringComparer.Ordinal).ToList();
                var spaces = await EmbedAsync(console, pipeline, cacheDir, files, ct).ConfigureAwait(false);
                cross = Report(console, set, spaces, map, source, target, pipeline.Registry);
            }

            if (!parse.GetValue(noWrite))
            {
                var registryPath = parse.GetValue(registry)!;
                var file = $"migration-{EmbedderNames.Of(source)}-{EmbedderNames.Of(target)}-v1.bin";
                var output = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(registryPath))!, file);
                var bytes = map.ToBytes();
                await File.WriteAllBytesAsync(output, bytes, ct).ConfigureAwait(false);
                var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                var entry = new JsonObject
                {
                    ["from"] = EmbedderNames.Of(source),
                    ["to"] = EmbedderNames.Of(target),
                    ["file"] = file,
                    ["sha256"] = sha,
                    ["fittedOn"] = $"{parse.GetValue(images)}: {usable.Count} faces, ridge {report.Ridge.ToString("G", inv)} (faceindex models fit-migration)",
                };
                if (cross is not null)
                {
                    entry["verificationThreshold"] = Math.Round(cross.MeanThreshold, 3);
                    entry["identificationThreshold"] = cross.ThresholdAtFar is { } t ? Math.Round(t, 3) : null;
                    entry["chosenOn"] = $"{parse.GetValue(eval)}, a mapped code against a code of the target model: verification = mean of the 10 fold thresholds; identification = FAR 0.1 % of the different-person pairs";
                }

                Pin(registryPath, source, target, entry);
                console.WriteLine($"fit-migration: wrote {output} (SHA-256 {sha}) and pinned it in {registryPath}; rebuild so the embedded bundle picks it up.");
            }

            return 0;
        }));
        return fit;
    }

    private static EmbedderKind ParseEmbedder(string name, string option) =>
        EmbedderNames.TryParse(name, out var kind) ? kind : throw new ArgumentException($"{option} '{name}' is not an embedder; use fr512 or dlib128.");

    private static async Task<CodeSpaces> EmbedAsync(IAnsiConsole console, FacePipeline pipeline, string cacheDir, IReadOnlyList<string> files, CancellationToken ct)
    {
        var fr = await ProgressRunner.EmbedAllAsync(console, new EvalEmbedder(pipeline, cacheDir, mirror: false), files, showProgress: true, ct).ConfigureAwait(false);
        var dlib = await ProgressRunner.EmbedAllAsync(console, new EvalEmbedder(pipeline, cacheDir, mirror: false, EmbedderKind.Dlib128), files, showProgress: true, ct).ConfigureAwait(false);
        return new CodeSpaces(pipeline.Projection!, fr, dlib);
    }

    /// <summary>Adds or replaces the models.json entry of this map.</summary>
    private static void Pin(string registryPath, EmbedderKind source, EmbedderKind target, JsonObject pinned)
    {
        var root = JsonNode.Parse(File.ReadAllText(registryPath))!;
        var migrations = root["migrations"] as JsonArray ?? [];
        root["migrations"] = migrations;
        var entry = migrations.FirstOrDefault(m => (string?)m?["from"] == EmbedderNames.Of(source) && (string?)m?["to"] == EmbedderNames.Of(target));
        if (entry is not null)
        {
            migrations.Remove(entry);
        }

        migrations.Add(pinned);
        // Relaxed escaping keeps the file's apostrophes and arrows as they are written by hand.
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(registryPath, root.ToJsonString(options) + "\n");
    }

    /// <summary>
    /// Verification by LFW's protocol for: each model's own codes, a mapped source code against a target
    /// code (a migrated gallery searched with the new model), and two mapped codes (a migrated gallery
    /// compared within itself); plus the cross-model error rates at the target model's own thresholds.
    /// </summary>
    private static VerificationReport Report(IAnsiConsole console, PairSet set, CodeSpaces spaces, CodeMap map, EmbedderKind source, EmbedderKind target, ModelRegistry registry)
    {
        var pairs = set.Pairs.Where(p => spaces.Has(p.PathA) && spaces.Has(p.PathB)).ToList();
        var same = pairs.Select(p => p.Same).ToArray();
        var folds = pairs.Select(p => p.Fold).ToArray();
        var mapped = new Dictionary<string, FaceVector>(StringComparer.Ordinal);
        FaceVector Mapped(string path) => mapped.TryGetValue(path, out var v) ? v : mapped[path] = map.Apply(spaces.Code(source, path));

        var rows = new (string Name, Func<VerificationPair, float> Distance)[]
        {
            ($"{EmbedderNames.Of(source)} vs {EmbedderNames.Of(source)} (old model)", p => Similarity.Distance(spaces.Code(source, p.PathA), spaces.Code(source, p.PathB))),
            ($"{EmbedderNames.Of(target)} vs {EmbedderNames.Of(target)} (new model)", p => Similarity.Distance(spaces.Code(target, p.PathA), spaces.Code(target, p.PathB))),
            ($"mapped {EmbedderNames.Of(source)} vs {EmbedderNames.Of(target)} (cross-model)", p => Similarity.Distance(Mapped(p.PathA), spaces.Code(target, p.PathB))),
            ($"mapped vs mapped", p => Similarity.Distance(Mapped(p.PathA), Mapped(p.PathB))),
        };

        var inv = CultureInfo.InvariantCulture;
        var table = new Table().AddColumns("codes (int8)", "accuracy % (10-fold)", "AUC", "TAR % @ FAR 0.1 %", "threshold");
        float[]? cross = null;
        VerificationReport? crossReport = null;
        foreach (var (name, distance) in rows)
        {
            var distances = pairs.Select(distance).ToArray();
            var r = VerificationProtocol.Evaluate(distances, same, folds, set.Folds);
            if (name.Contains("cross-model", StringComparison.Ordinal))
            {
                cross = distances;
                crossReport = r;
            }

            table.AddRow(
                name,
                string.Create(inv, $"{r.MeanAccuracy * 100:F2} ± {r.StdAccuracy * 100:F2}"),
                string.Create(inv, $"{r.Auc:F4}"),
                r.TarAtFar is { } tar ? string.Create(inv, $"{tar * 100:F2}") : "n/a",
                string.Create(inv, $"{r.MeanThreshold:F3}"));
        }

        console.WriteLine(string.Create(inv, $"{set.Pairs.Count} pairs, {pairs.Count} with a face detected by both pipelines in both images"));
        console.Write(table);
        var targetModel = registry.Models.First(m => m.Embedders.Count == 1 && m.Embedders[0] == target);
        foreach (var (label, threshold) in new[] { ("verification", targetModel.VerificationThreshold), ("identification", targetModel.IdentificationThreshold) })
        {
            int fa = 0, fr = 0, sameCount = same.Count(s => s);
            for (int i = 0; i < cross!.Length; i++)
            {
                bool accepted = cross[i] <= threshold;
                fa += !same[i] && accepted ? 1 : 0;
                fr += same[i] && !accepted ? 1 : 0;
            }

            console.WriteLine(string.Create(inv, $"cross-model at {targetModel.Id}'s {label} threshold {threshold:F3}: FAR {100.0 * fa / (same.Length - sameCount):F2} %, FRR {100.0 * fr / sameCount:F2} %"));
        }

        console.WriteLine(string.Create(inv, $"cross-model thresholds: verification {crossReport!.MeanThreshold:F3} (mean of the fold thresholds), identification {crossReport.ThresholdAtFar:F3} (FAR 0.1 %, TAR {crossReport.TarAtFar * 100:F2} %)"));
        return crossReport;
    }

    /// <summary>Each image's code and unit 128-D vector under both embedders (images where both found a face).</summary>
    private sealed class CodeSpaces
    {
        private readonly Dictionary<string, (FaceVector Code, float[] Unit)> _fr = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (FaceVector Code, float[] Unit)> _dlib = new(StringComparer.Ordinal);

        public CodeSpaces(Projection projection, Dictionary<string, ImageEmbedding> fr, Dictionary<string, ImageEmbedding> dlib)
        {
            foreach (var (path, image) in fr)
            {
                if (image.Outcome == ImageOutcome.Face)
                {
                    var unit = new float[FaceVector.Dimensions];
                    projection.Apply(image.Plain, unit);
                    _fr[path] = (Quantizer.QuantizeUnit(unit), unit);
                }
            }

            foreach (var (path, image) in dlib)
            {
                if (image.Outcome == ImageOutcome.Face)
                {
                    _dlib[path] = (Quantizer.QuantizeUnit(image.Plain), image.Plain);
                }
            }
        }

        public bool Has(string path) => _fr.ContainsKey(path) && _dlib.ContainsKey(path);

        public FaceVector Code(EmbedderKind kind, string path) => (kind == EmbedderKind.Fr512 ? _fr : _dlib)[path].Code;

        public float[] Unit(EmbedderKind kind, string path) => (kind == EmbedderKind.Fr512 ? _fr : _dlib)[path].Unit;
    }
}
