using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FaceIndex.Cli.Evaluation;
using FaceIndex.Evaluation;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>Whether the evaluation uses plain embeddings, flip-averaged ones, or reports both.</summary>
internal enum FlipMode
{
    /// <summary>Plain embeddings only.</summary>
    Off,

    /// <summary>Flip-averaged embeddings only.</summary>
    On,

    /// <summary>Both, from one pass (each face and its mirror image are embedded once).</summary>
    Both,
}

/// <summary>
/// <c>faceindex eval PAIRS --images DIR</c>: LFW's 10-fold verification protocol on a pair list
/// (LFW pairs.txt or deepface master.csv) for the float512, float128 and int8-128 representations.
/// </summary>
internal static class EvalCommand
{
    private static readonly string[] s_codeNames = ["float512", "float128", "int8", "all"];

    public static Command Create(IAnsiConsole console)
    {
        var pairs = new Argument<string>("PAIRS") { Description = "Pair list: LFW pairs.txt format (folds<TAB>n header) or a CSV with file_x,file_y,Decision (deepface master.csv)" };
        var images = new Option<string?>("--images") { Description = "Folder the pair list's image paths are relative to (default: the pair list's folder)" };
        var codes = new Option<string[]>("--code")
        {
            Description = "Representations to evaluate: float512, float128, int8 (the 128-byte code) or all; several may be given",
            DefaultValueFactory = _ => ["all"],
            AllowMultipleArgumentsPerToken = true,
        };
        codes.AcceptOnlyFromAmong(s_codeNames);
        var flip = new Option<FlipMode>("--flip") { Description = "Off, On (flip-averaged embeddings) or Both (reported side by side, from one pass)", DefaultValueFactory = _ => FlipMode.Off };
        var cache = new Option<string>("--cache") { Description = "Folder of the embedding cache (a re-run only embeds new or changed images)", DefaultValueFactory = _ => ".cache/eval" };
        var noCache = new Option<bool>("--no-cache") { Description = "Embed every image afresh and write no cache" };
        var far = new Option<double>("--far") { Description = "False-accept rate for the TAR figure; reported when there are at least 1/FAR different-person pairs", DefaultValueFactory = _ => VerificationProtocol.DefaultFar };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table" };
        var errors = new Option<int>("--errors") { Description = "Also list up to this many misjudged pairs (each representation, at its mean threshold), worst first", DefaultValueFactory = _ => 0 };
        var vision = new VisionCliOptions(withFlip: false);

        var eval = new Command("eval", "Verification accuracy on a pair list by LFW's 10-fold protocol (threshold chosen on 9 folds, applied to the 10th): mean accuracy ± std, AUC, TAR at a FAR, threshold. Images without a detected face fall back to a centre crop and are counted.");
        eval.Add(pairs);
        eval.Add(images);
        eval.Add(codes);
        eval.Add(flip);
        eval.Add(cache);
        eval.Add(noCache);
        eval.Add(far);
        eval.Add(json);
        eval.Add(errors);
        vision.AddTo(eval);
        eval.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            var pairsPath = parse.GetValue(pairs)!;
            var imageDir = parse.GetValue(images) ?? Path.GetDirectoryName(Path.GetFullPath(pairsPath))!;
            var set = PairList.Load(pairsPath, imageDir);
            var kinds = ParseCodes(parse.GetValue(codes)!);
            var flipMode = parse.GetValue(flip);
            double farTarget = parse.GetValue(far);
            if (farTarget is not (> 0 and < 1))
            {
                throw new ArgumentException("--far must lie in (0, 1).");
            }

            var options = vision.Read(parse);
            options.FlipAveraging = false;
            await using var pipeline = FacePipeline.Create(options);
            var embedder = new EvalEmbedder(pipeline, parse.GetValue(noCache) ? null : parse.GetValue(cache), mirror: flipMode != FlipMode.Off);

            var files = UniqueImages(set);
            var started = System.Diagnostics.Stopwatch.StartNew();
            var embeddings = await ProgressRunner.EmbedAllAsync(console, embedder, files, showProgress: !parse.GetValue(json), ct).ConfigureAwait(false);
            var elapsed = started.Elapsed;

            var summary = Summarise(set, embeddings);
            var rows = new List<ResultRow>();
            foreach (bool flipped in FlipSettings(flipMode))
            {
                foreach (var kind in kinds)
                {
                    var distances = PairScorer.Distances(set.Pairs, embeddings, pipeline.Projection!, kind, flipped);
                    var report = Evaluate(set, distances, farTarget);
                    double? atDefault = kind == CodeKind.Int8 ? AccuracyAt(set, distances, pipeline.DefaultThreshold) : null;
                    rows.Add(new ResultRow(kind, flipped, report, atDefault));
                    if (parse.GetValue(errors) > 0 && !parse.GetValue(json))
                    {
                        WriteErrors(console, set, distances, (float)report.MeanThreshold, parse.GetValue(errors), $"{CodeName(kind)}{(flipped ? " flip" : "")}");
                    }
                }
            }

            var context = new RunContext(pairsPath, set, files.Count, embedder.CacheHits, elapsed, summary, pipeline.DefaultThreshold, pipeline.DefaultThresholdSource, pipeline.ModelVersion);
            if (parse.GetValue(json))
            {
                WriteJson(console, context, rows);
            }
            else
            {
                WriteTable(console, context, rows);
            }

            return 0;
        }));
        return eval;
    }

    private static bool[] FlipSettings(FlipMode mode) => mode switch
    {
        FlipMode.Off => [false],
        FlipMode.On => [true],
        _ => [false, true],
    };

    private static List<CodeKind> ParseCodes(string[] names)
    {
        var kinds = new List<CodeKind>();
        foreach (var name in names)
        {
            CodeKind[] add = name switch
            {
                "float512" => [CodeKind.Float512],
                "float128" => [CodeKind.Float128],
                "int8" => [CodeKind.Int8],
                _ => [CodeKind.Float512, CodeKind.Float128, CodeKind.Int8],
            };
            foreach (var kind in add)
            {
                if (!kinds.Contains(kind))
                {
                    kinds.Add(kind);
                }
            }
        }

        kinds.Sort();
        return kinds;
    }

    private static List<string> UniqueImages(PairSet set)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var pair in set.Pairs)
        {
            if (seen.Add(pair.PathA))
            {
                files.Add(pair.PathA);
            }

            if (seen.Add(pair.PathB))
            {
                files.Add(pair.PathB);
            }
        }

        return files;
    }

    private static VerificationReport Evaluate(PairSet set, float[] distances, double far)
    {
        var same = new bool[set.Pairs.Count];
        var folds = new int[set.Pairs.Count];
        for (int i = 0; i < same.Length; i++)
        {
            same[i] = set.Pairs[i].Same;
            folds[i] = set.Pairs[i].Fold;
        }

        return VerificationProtocol.Evaluate(distances, same, folds, set.Folds, far);
    }

    private static double AccuracyAt(PairSet set, float[] distances, float threshold)
    {
        int correct = 0;
        for (int i = 0; i < distances.Length; i++)
        {
            correct += (distances[i] <= threshold) == set.Pairs[i].Same ? 1 : 0;
        }

        return (double)correct / distances.Length;
    }

    private static ImageSummary Summarise(PairSet set, Dictionary<string, ImageEmbedding> embeddings)
    {
        int centre = 0, unreadable = 0, centrePairs = 0, unreadablePairs = 0;
        foreach (var e in embeddings.Values)
        {
            centre += e.Outcome == ImageOutcome.CentreCrop ? 1 : 0;
            unreadable += e.Outcome == ImageOutcome.Unreadable ? 1 : 0;
        }

        foreach (var pair in set.Pairs)
        {
            var (a, b) = (embeddings[pair.PathA].Outcome, embeddings[pair.PathB].Outcome);
            if (a == ImageOutcome.Unreadable || b == ImageOutcome.Unreadable)
            {
                unreadablePairs++;
            }
            else if (a == ImageOutcome.CentreCrop || b == ImageOutcome.CentreCrop)
            {
                centrePairs++;
            }
        }

        return new ImageSummary(centre, centrePairs, unreadable, unreadablePairs);
    }

    private static string CodeName(CodeKind kind) => kind switch
    {
        CodeKind.Float512 => "float512",
        CodeKind.Float128 => "float128",
        _ => "int8-128",
    };

    private static string Percent(double value) => double.IsNaN(value) ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{value * 100:F2}");

    private static void WriteTable(IAnsiConsole console, RunContext c, List<ResultRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        int same = c.Set.Pairs.Count(p => p.Same);
        console.MarkupLineInterpolated(inv, $"[bold]eval[/] {c.PairsPath}: {c.Set.Format}, {c.Set.Pairs.Count} pairs ({same} same, {c.Set.Pairs.Count - same} different) in {c.Set.Folds} folds");
        console.MarkupLineInterpolated(inv, $"images: {c.Images} ({c.CacheHits} from the cache, {c.Elapsed.TotalSeconds:F1} s); model {c.ModelVersion}");
        console.MarkupLineInterpolated(inv, $"no face detected: {c.Summary.CentreCropImages} images (centre crop used; {c.Summary.CentreCropPairs} pairs); unreadable: {c.Summary.UnreadableImages} images ({c.Summary.UnreadablePairs} pairs, counted as different)");

        var far = Percent(rows[0].Report.FarTarget);
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("code");
        table.AddColumn("flip");
        table.AddColumn(new TableColumn("accuracy % (mean ± std)").RightAligned());
        table.AddColumn(new TableColumn("AUC").RightAligned());
        table.AddColumn(new TableColumn($"TAR % @ FAR {far} % (distance)").RightAligned());
        table.AddColumn(new TableColumn("threshold (L2², mean ± std)").RightAligned());
        table.AddColumn(new TableColumn($"acc. % @ default {c.DefaultThreshold.ToString("F3", inv)}").RightAligned());
        foreach (var row in rows)
        {
            var r = row.Report;
            table.AddRow(
                CodeName(row.Code),
                row.Flip ? "yes" : "no",
                string.Create(inv, $"{r.MeanAccuracy * 100:F2} ± {r.StdAccuracy * 100:F2}"),
                r.Auc.ToString("F4", inv),
                r.TarAtFar is { } tar ? string.Create(inv, $"{Percent(tar)} (< {r.ThresholdAtFar:F3})") : "— (too few pairs)",
                string.Create(inv, $"{r.MeanThreshold:F3} ± {r.StdThreshold:F3}"),
                row.AccuracyAtDefault is { } d ? Percent(d) : "");
        }

        console.Write(table);
        console.MarkupLineInterpolated(inv, $"default threshold {c.DefaultThreshold.ToString("F3", inv)} (squared L2, int8-128) was chosen on {c.DefaultThresholdSource}");
    }

    private static void WriteErrors(IAnsiConsole console, PairSet set, float[] distances, float threshold, int limit, string label)
    {
        var wrong = new List<(float Margin, int Index)>();
        for (int i = 0; i < distances.Length; i++)
        {
            if ((distances[i] <= threshold) != set.Pairs[i].Same)
            {
                wrong.Add((MathF.Abs(distances[i] - threshold), i));
            }
        }

        wrong.Sort((a, b) => b.Margin.CompareTo(a.Margin));
        var inv = CultureInfo.InvariantCulture;
        var output = console.Profile.Out.Writer;
        output.WriteLine(string.Create(inv, $"{label}: {wrong.Count} pairs misjudged at threshold {threshold:F3}"));
        for (int k = 0; k < Math.Min(limit, wrong.Count); k++)
        {
            var pair = set.Pairs[wrong[k].Index];
            output.WriteLine(string.Create(inv, $"  {(pair.Same ? "same, rejected" : "different, accepted")}  distance {distances[wrong[k].Index]:F3}  {pair.PathA}  {pair.PathB}"));
        }
    }

    private static void WriteJson(IAnsiConsole console, RunContext c, List<ResultRow> rows)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("pairsFile", c.PairsPath);
            w.WriteString("format", c.Set.Format);
            w.WriteNumber("pairs", c.Set.Pairs.Count);
            w.WriteNumber("samePairs", c.Set.Pairs.Count(p => p.Same));
            w.WriteNumber("folds", c.Set.Folds);
            w.WriteNumber("images", c.Images);
            w.WriteNumber("cacheHits", c.CacheHits);
            w.WriteNumber("centreCropImages", c.Summary.CentreCropImages);
            w.WriteNumber("centreCropPairs", c.Summary.CentreCropPairs);
            w.WriteNumber("unreadableImages", c.Summary.UnreadableImages);
            w.WriteNumber("unreadablePairs", c.Summary.UnreadablePairs);
            w.WriteString("modelVersion", c.ModelVersion);
            w.WriteNumber("defaultThreshold", c.DefaultThreshold);
            w.WriteStartArray("results");
            foreach (var row in rows)
            {
                var r = row.Report;
                w.WriteStartObject();
                w.WriteString("code", CodeName(row.Code));
                w.WriteBoolean("flip", row.Flip);
                w.WriteNumber("meanAccuracy", r.MeanAccuracy);
                w.WriteNumber("stdAccuracy", r.StdAccuracy);
                w.WriteNumber("auc", r.Auc);
                w.WriteNumber("far", r.FarTarget);
                if (r.TarAtFar is { } tar)
                {
                    w.WriteNumber("tarAtFar", tar);
                    w.WriteNumber("thresholdAtFar", r.ThresholdAtFar!.Value);
                }
                else
                {
                    w.WriteNull("tarAtFar");
                }

                w.WriteNumber("meanThreshold", r.MeanThreshold);
                w.WriteNumber("stdThreshold", r.StdThreshold);
                if (row.AccuracyAtDefault is { } d)
                {
                    w.WriteNumber("accuracyAtDefaultThreshold", d);
                }

                w.WriteStartArray("foldAccuracies");
                foreach (var a in r.FoldAccuracies)
                {
                    w.WriteNumberValue(a);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        console.Profile.Out.Writer.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private sealed record ImageSummary(int CentreCropImages, int CentreCropPairs, int UnreadableImages, int UnreadablePairs);

    private sealed record ResultRow(CodeKind Code, bool Flip, VerificationReport Report, double? AccuracyAtDefault);

    private sealed record RunContext(string PairsPath, PairSet Set, int Images, int CacheHits, TimeSpan Elapsed, ImageSummary Summary, float DefaultThreshold, string DefaultThresholdSource, string ModelVersion);
}
