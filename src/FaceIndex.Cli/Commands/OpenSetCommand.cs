using System.CommandLine;
using System.Globalization;
using FaceIndex.Cli.Evaluation;
using FaceIndex.Core;
using FaceIndex.Vision;
using Spectre.Console;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex eval-openset IDENTITIES --distractors DIR</c>: open-set identification on development
/// data: person templates (rank-1 and DIR at FPIR per aggregation and gallery images per person), DIR at
/// FPIR for galleries of given sizes (filled with distractors), the calibration grid of Search's default
/// threshold (threshold per gallery size and FPIR) and what the calibrated threshold gives.
/// </summary>
internal static class OpenSetCommand
{
    private static readonly Aggregation[] s_aggregations = [Aggregation.Nearest, Aggregation.MeanTop2, Aggregation.MeanAll, Aggregation.Centroid];
    private static readonly int[] s_gridSizes = [10, 30, 100, 300, 1000, 3000, 10000];
    private static readonly double[] s_gridFpirs = [0.003, 0.01, 0.03, 0.1, 0.3];

    public static Command Create(IAnsiConsole console)
    {
        var identities = new Argument<string>("IDENTITIES") { Description = "Folder of one sub-folder of images per identity (e.g. ../shared/faces/celeba-dev)" };
        var distractors = new Option<string?>("--distractors") { Description = "Folder of one sub-folder per person used to fill galleries (one image each; e.g. ../shared/faces/lfw-disjoint)" };
        var sizes = new Option<int[]>("--gallery-sizes") { Description = "Gallery sizes (persons) of the DIR-at-FPIR table", DefaultValueFactory = _ => [100, 1000, 10000], AllowMultipleArgumentsPerToken = true };
        var perPerson = new Option<int[]>("--images-per-person") { Description = "Gallery images per enrolled person in the template table", DefaultValueFactory = _ => [1, 3, 5], AllowMultipleArgumentsPerToken = true };
        var splits = new Option<int>("--splits") { Description = "Random splits of the identities into enrolled and not enrolled; results are averaged", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seed of the splits and of the synthetic distractors", DefaultValueFactory = _ => 1 };
        var minQuality = new Option<float>("--min-quality") { Description = "Leave out gallery images and probes under this face quality (0 = none)", DefaultValueFactory = _ => 0f };
        var cache = new Option<string>("--cache") { Description = "Folder of the embedding cache (shared with eval)", DefaultValueFactory = _ => ".cache/eval" };
        var model = new Option<string?>("--model") { Description = "Registered single-code model to measure: fr512-pca128-v1 (default) or dlib128-v1; its grid goes in models.json (openSet)" };
        var vision = new VisionCliOptions(withFlip: false);

        var command = new Command("eval-openset", "Open-set identification on development data: person templates (rank-1, DIR at FPIR 1 % and 0.1 % per aggregation), DIR at FPIR 1 % and 10 % for galleries of given sizes, the calibration grid of Search's default threshold and what it gives.");
        command.Add(identities);
        command.Add(distractors);
        command.Add(sizes);
        command.Add(perPerson);
        command.Add(splits);
        command.Add(seed);
        command.Add(minQuality);
        command.Add(cache);
        command.Add(model);
        vision.AddTo(command);
        command.SetAction((parse, ct) => CliErrors.RunAsync(console, async () =>
        {
            int splitCount = parse.GetValue(splits);
            float minimum = parse.GetValue(minQuality);
            if (splitCount < 1 || minimum is < 0f or > 1f)
            {
                throw new ArgumentException("--splits must be at least 1 and --min-quality lie in [0, 1].");
            }

            var options = vision.Read(parse);
            options.FlipAveraging = false;
            await using var pipeline = FacePipeline.Create(options);
            var chosen = pipeline.Registry.Get(parse.GetValue(model));
            if (chosen.CodesPerFace != 1)
            {
                throw new ArgumentException($"eval-openset compares one code per face; model {chosen.Id} has {chosen.CodesPerFace}.");
            }

            var kind = chosen.Embedders[0];
            var embedder = new EvalEmbedder(pipeline, parse.GetValue(cache), mirror: false, kind);

            var people = ByPerson(parse.GetValue(identities)!);
            var others = parse.GetValue(distractors) is { } d ? ByPerson(d) : [];
            var files = people.Values.SelectMany(f => f).Concat(others.Values.Select(f => f[0])).ToList();
            var embeddings = await ProgressRunner.EmbedAllAsync(console, embedder, files, showProgress: true, ct).ConfigureAwait(false);

            var codes = new Dictionary<string, (FaceVector Code, float[] Unit128)>(StringComparer.Ordinal);
            int refused = 0;
            foreach (var (file, e) in embeddings)
            {
                if (e.Outcome == ImageOutcome.Unreadable)
                {
                    continue;
                }

                if (!QualitySweep.Passes(e, minimum))
                {
                    refused++;
                    continue;
                }

                // The stored code of the chosen model: fr512's projected to 128-D, dlib's as it is.
                var unit = new float[FaceVector.Dimensions];
                if (kind == EmbedderKind.Fr512)
                {
                    pipeline.Projection!.Apply(e.Plain, unit);
                }
                else
                {
                    e.Plain.CopyTo(unit, 0);
                }

                codes[file] = (Quantizer.QuantizeUnit(unit), unit);
            }

            var inv = CultureInfo.InvariantCulture;
            console.MarkupLineInterpolated(inv, $"[bold]eval-openset[/]: {people.Count} identities ({people.Values.Sum(f => f.Count)} images), {others.Count} distractor persons; {refused} images under quality {minimum:F2} left out; {splitCount} splits; model {chosen.Id}");

            var identityCodes = people.ToDictionary(p => p.Key, p => p.Value.Where(codes.ContainsKey).Select(f => codes[f]).ToList());
            var distractorCodes = others.Values.Select(f => f[0]).Where(codes.ContainsKey).Select(f => codes[f]).ToList();
            var perPersonCounts = parse.GetValue(perPerson)!;
            WriteTemplates(console, identityCodes, perPersonCounts, splitCount, parse.GetValue(seed));
            var grid = MeasureGrid(identityCodes, distractorCodes, s_gridSizes, s_gridFpirs, splitCount, parse.GetValue(seed));
            WriteGrid(console, s_gridSizes, s_gridFpirs, grid, splitCount);
            var calibration = chosen.Id == pipeline.ModelVersion ? pipeline.OpenSet : chosen.OpenSet;
            if (calibration is null)
            {
                console.MarkupLine($"The model bundle has no calibration grid for {chosen.Id}: the calibrated columns use the grid measured in this run.");
                calibration = new OpenSetCalibration(s_gridSizes, s_gridFpirs, grid);
            }

            WriteGallerySizes(console, identityCodes, distractorCodes, parse.GetValue(sizes)!, splitCount, parse.GetValue(seed), calibration);
            return 0;
        }));
        return command;
    }

    private static Dictionary<string, List<string>> ByPerson(string folder)
    {
        var people = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var file in ImageFiles.Find(folder))
        {
            var person = Path.GetFileName(Path.GetDirectoryName(file)!);
            if (!people.TryGetValue(person, out var list))
            {
                people[person] = list = [];
            }

            list.Add(file);
        }

        return people;
    }

    /// <summary>One split: enrolled identities (their first <c>maxGallery</c> shuffled images may enter the gallery, the rest are mated probes) and the others (non-mated probes).</summary>
    private static (List<(string Id, List<(FaceVector Code, float[] Unit)> Gallery, List<FaceVector> Probes)> Enrolled, List<FaceVector> Strangers) Split(
        Dictionary<string, List<(FaceVector Code, float[] Unit)>> people, int maxGallery, Random random)
    {
        var ids = people.Keys.Where(k => people[k].Count > maxGallery).OrderBy(k => k, StringComparer.Ordinal).ToArray();
        random.Shuffle(ids);
        var enrolled = new List<(string, List<(FaceVector, float[])>, List<FaceVector>)>();
        var strangers = new List<FaceVector>();
        for (int i = 0; i < ids.Length; i++)
        {
            var images = people[ids[i]].ToArray();
            random.Shuffle(images);
            if (i < ids.Length / 2)
            {
                enrolled.Add((ids[i], images.Take(maxGallery).ToList(), images.Skip(maxGallery).Select(x => x.Code).ToList()));
            }
            else
            {
                strangers.AddRange(images.Select(x => x.Code));
            }
        }

        return (enrolled, strangers);
    }

    private static GalleryPerson Person(string id, IReadOnlyList<(FaceVector Code, float[] Unit)> faces)
    {
        var centroid = new float[FaceVector.Dimensions];
        foreach (var (_, unit) in faces)
        {
            for (int k = 0; k < centroid.Length; k++)
            {
                centroid[k] += unit[k];
            }
        }

        VectorMath.Normalize(centroid);
        return new GalleryPerson(id, faces.Select(f => f.Code).ToArray(), Quantizer.QuantizeUnit(centroid));
    }

    private static List<Probe> Probes(IEnumerable<(string Id, List<(FaceVector Code, float[] Unit)> Gallery, List<FaceVector> Probes)> enrolled, List<FaceVector> strangers)
    {
        var probes = new List<Probe>();
        foreach (var (id, _, mated) in enrolled)
        {
            probes.AddRange(mated.Select(c => new Probe(c, id)));
        }

        probes.AddRange(strangers.Select(c => new Probe(c, null)));
        return probes;
    }

    private static void WriteTemplates(IAnsiConsole console, Dictionary<string, List<(FaceVector Code, float[] Unit)>> people, int[] perPerson, int splits, int seed)
    {
        var inv = CultureInfo.InvariantCulture;
        double[] fpir = [0.01, 0.001];
        int maxGallery = perPerson.Max();
        var sums = new Dictionary<(int, Aggregation), (double Rank1, double[] Dir, double[] Threshold, int Gallery, int Mated, int NonMated)>();
        for (int s = 0; s < splits; s++)
        {
            // The same split and the same probes for every gallery size, so the rows compare like with like.
            var (enrolled, strangers) = Split(people, maxGallery, new Random(seed + s));
            var probes = Probes(enrolled, strangers);
            foreach (int g in perPerson)
            {
                var gallery = enrolled.Select(e => Person(e.Id, e.Gallery.Take(g).ToList())).ToList();
                foreach (var aggregation in s_aggregations)
                {
                    var r = OpenSetProtocol.Evaluate(gallery, probes, aggregation, fpir);
                    sums.TryGetValue((g, aggregation), out var acc);
                    acc.Dir ??= new double[fpir.Length];
                    acc.Threshold ??= new double[fpir.Length];
                    acc.Rank1 += r.Rank1 / splits;
                    for (int i = 0; i < fpir.Length; i++)
                    {
                        acc.Dir[i] += r.Dir[i] / splits;
                        acc.Threshold[i] += r.Thresholds[i] / splits;
                    }

                    (acc.Gallery, acc.Mated, acc.NonMated) = (r.Gallery, r.MatedProbes, r.NonMatedProbes);
                    sums[(g, aggregation)] = acc;
                }
            }
        }

        var table = new Table().Border(TableBorder.Rounded).Title("Person templates (gallery = enrolled identities; mean of the splits)");
        table.AddColumn("images / person");
        table.AddColumn("aggregation");
        table.AddColumn(new TableColumn("gallery, mated, non-mated probes").RightAligned());
        table.AddColumn(new TableColumn("rank-1 %").RightAligned());
        table.AddColumn(new TableColumn("DIR % @ FPIR 1 % (threshold)").RightAligned());
        table.AddColumn(new TableColumn("DIR % @ FPIR 0.1 % (threshold)").RightAligned());
        foreach (int g in perPerson)
        {
            foreach (var aggregation in s_aggregations)
            {
                var a = sums[(g, aggregation)];
                table.AddRow(
                    g.ToString(inv),
                    Name(aggregation),
                    string.Create(inv, $"{a.Gallery}, {a.Mated}, {a.NonMated}"),
                    string.Create(inv, $"{a.Rank1 * 100:F2}"),
                    string.Create(inv, $"{a.Dir[0] * 100:F2} ({a.Threshold[0]:F3})"),
                    string.Create(inv, $"{a.Dir[1] * 100:F2} ({a.Threshold[1]:F3})"));
            }
        }

        console.Write(table);
        console.MarkupLine($"Identities with more than {maxGallery} images; half enrolled per split (their first images in the gallery, the rest as mated probes), the other half's images as non-mated probes.");
    }

    private static void WriteGallerySizes(IAnsiConsole console, Dictionary<string, List<(FaceVector Code, float[] Unit)>> people, List<(FaceVector Code, float[] Unit)> distractors, int[] sizes, int splits, int seed, OpenSetCalibration calibration)
    {
        var inv = CultureInfo.InvariantCulture;
        double[] fpir = [0.01, 0.1];
        var table = new Table().Border(TableBorder.Rounded).Title("Open set, one image per person (mean of the splits)");
        table.AddColumn(new TableColumn("gallery (enrolled + real + synthetic distractors)").RightAligned());
        table.AddColumn(new TableColumn("rank-1 %").RightAligned());
        table.AddColumn(new TableColumn("DIR % @ FPIR 1 % (threshold)").RightAligned());
        table.AddColumn(new TableColumn("DIR % @ FPIR 10 % (threshold)").RightAligned());
        table.AddColumn(new TableColumn("calibrated for FPIR 1 %: threshold, FPIR %, DIR %").RightAligned());
        table.AddColumn(new TableColumn("calibrated for FPIR 10 %: threshold, FPIR %, DIR %").RightAligned());
        foreach (int size in sizes)
        {
            double rank1 = 0;
            var dir = new double[2];
            var thr = new double[2];
            var calFpir = new double[2];
            var calDir = new double[2];
            int enrolledCount = 0, real = 0, synthetic = 0;
            for (int s = 0; s < splits; s++)
            {
                var random = new Random(seed + s);
                var (enrolled, strangers) = Split(people, 1, random);
                var gallery = enrolled.Select(e => Person(e.Id, e.Gallery)).ToList();
                enrolledCount = gallery.Count;
                var fill = Distractors(distractors, Math.Max(0, size - gallery.Count), random, out real, out synthetic);
                gallery.AddRange(fill.Select((f, i) => new GalleryPerson("distractor-" + i.ToString(inv), [f], f)));
                var probes = Probes(enrolled, strangers);
                var r = OpenSetProtocol.Evaluate(gallery, probes, Aggregation.Nearest, fpir);
                rank1 += r.Rank1 / splits;
                for (int i = 0; i < 2; i++)
                {
                    dir[i] += r.Dir[i] / splits;
                    thr[i] += r.Thresholds[i] / splits;
                    float t = calibration.ThresholdFor(fpir[i], gallery.Count);
                    var (f, dd) = OpenSetProtocol.RatesAt(gallery, probes, t);
                    calFpir[i] += f / splits;
                    calDir[i] += dd / splits;
                }
            }

            table.AddRow(
                string.Create(inv, $"{enrolledCount + real + synthetic} ({enrolledCount} + {real} + {synthetic})"),
                string.Create(inv, $"{rank1 * 100:F2}"),
                string.Create(inv, $"{dir[0] * 100:F2} ({thr[0]:F3})"),
                string.Create(inv, $"{dir[1] * 100:F2} ({thr[1]:F3})"),
                string.Create(inv, $"{calibration.ThresholdFor(fpir[0], size):F3}, {calFpir[0] * 100:F2}, {calDir[0] * 100:F2}"),
                string.Create(inv, $"{calibration.ThresholdFor(fpir[1], size):F3}, {calFpir[1] * 100:F2}, {calDir[1] * 100:F2}"));
        }

        console.Write(table);
        console.Profile.Out.Writer.WriteLine("Real distractors: one image of each distractor person. Synthetic distractors: the re-normalised blend w·a + (1 − w)·b of two different real distractors' 128-D embeddings, w uniform in [0.25, 0.75] (blends lie nearer the average face than real faces do: a pessimistic stand-in).");
    }

    private static List<FaceVector> Distractors(List<(FaceVector Code, float[] Unit)> real, int count, Random random, out int realCount, out int syntheticCount)
    {
        var order = Enumerable.Range(0, real.Count).ToArray();
        random.Shuffle(order);
        var result = new List<FaceVector>(count);
        realCount = Math.Min(count, real.Count);
        for (int i = 0; i < realCount; i++)
        {
            result.Add(real[order[i]].Code);
        }

        syntheticCount = count - realCount;
        var blend = new float[FaceVector.Dimensions];
        for (int i = 0; i < syntheticCount && real.Count > 1; i++)
        {
            int a = random.Next(real.Count), b = random.Next(real.Count - 1);
            b += b >= a ? 1 : 0;
            float w = 0.25f + (0.5f * random.NextSingle());
            for (int k = 0; k < blend.Length; k++)
            {
                blend[k] = (w * real[a].Unit[k]) + ((1 - w) * real[b].Unit[k]);
            }

            VectorMath.Normalize(blend);
            result.Add(Quantizer.QuantizeUnit(blend));
        }

        return result;
    }

    /// <summary>
    /// The calibration grid: for each gallery size (enrolled identities, one image each, filled with distractors;
    /// a random subset of them for sizes under the enrolled count), the threshold at which each FPIR is observed
    /// on the non-mated probes, averaged over the splits.
    /// </summary>
    private static float[][] MeasureGrid(Dictionary<string, List<(FaceVector Code, float[] Unit)>> people, List<(FaceVector Code, float[] Unit)> distractors, int[] sizes, double[] fpirs, int splits, int seed)
    {
        var grid = new float[sizes.Length][];
        for (int i = 0; i < sizes.Length; i++)
        {
            var sums = new double[fpirs.Length];
            for (int s = 0; s < splits; s++)
            {
                var random = new Random(seed + 1000 + s);
                var (enrolled, strangers) = Split(people, 1, random);
                var gallery = enrolled.Take(sizes[i]).Select(e => Person(e.Id, e.Gallery)).ToList();
                var fill = Distractors(distractors, Math.Max(0, sizes[i] - gallery.Count), random, out _, out _);
                gallery.AddRange(fill.Select((f, k) => new GalleryPerson("distractor-" + k.ToString(CultureInfo.InvariantCulture), [f], f)));
                var probes = strangers.Select(c => new Probe(c, null)).ToList();
                var nearest = OpenSetProtocol.Nearest(gallery, probes, Aggregation.Nearest).Select(n => n.Distance).ToList();
                nearest.Sort();
                for (int j = 0; j < fpirs.Length; j++)
                {
                    sums[j] += OpenSetProtocol.ThresholdAtFpir(nearest, fpirs[j]) / splits;
                }
            }

            grid[i] = [.. sums.Select(x => (float)Math.Round(x, 3))];
        }

        return grid;
    }

    private static void WriteGrid(IAnsiConsole console, int[] sizes, double[] fpirs, float[][] grid, int splits)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded).Title("Calibration grid: threshold (L2²) at which each FPIR is observed (mean of the splits)");
        table.AddColumn(new TableColumn("gallery").RightAligned());
        foreach (var f in fpirs)
        {
            table.AddColumn(new TableColumn(string.Create(inv, $"FPIR {f * 100:G3} %")).RightAligned());
        }

        for (int i = 0; i < sizes.Length; i++)
        {
            table.AddRow([sizes[i].ToString("N0", inv), .. grid[i].Select(t => t.ToString("F3", inv))]);
        }

        console.Write(table);
        var json = string.Create(inv, $"\"openSet\": {{ \"gallerySizes\": [{string.Join(", ", sizes)}], \"fpir\": [{string.Join(", ", fpirs.Select(f => f.ToString(inv)))}], \"thresholds\": [{string.Join(", ", grid.Select(r => "[" + string.Join(", ", r.Select(t => t.ToString("F3", inv))) + "]"))}], \"measuredOn\": \"{splits} splits\" }}");
        console.Profile.Out.Writer.WriteLine("manifest identification." + json);
    }

    private static string Name(Aggregation aggregation) => aggregation switch
    {
        Aggregation.Nearest => "nearest face",
        Aggregation.MeanTop2 => "mean of 2 nearest",
        Aggregation.MeanAll => "mean of all",
        _ => "centroid",
    };
}
