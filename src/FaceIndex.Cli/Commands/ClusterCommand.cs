using System.CommandLine;
using FaceIndex.Cli.Clustering;
using FaceIndex.Clustering;
using FaceIndex.Protocol.V1;
using FaceIndex.Server;
using FaceIndex.Vision;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using EngineAlgorithm = FaceIndex.Clustering.ClusteringAlgorithm;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// <c>faceindex cluster</c>: groups a collection's faces into identities — as an operation of a
/// running server (--server), on a data directory directly (--data: the server runs inside the
/// command), or over a folder of images without a server (--images) — with a progress bar, a
/// summary, a CSV of the members and, with --eval, pairwise and BCubed quality against labels.
/// </summary>
internal static class ClusterCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var data = new Option<string?>("--data") { Description = "Cluster a server's data directory directly (no server may be running on it); the result is stored there as a server stores it" };
        var images = new Option<string?>("--images") { Description = "Cluster the images of a folder (one face per image, the one nearest the centre) without a server" };
        var algorithm = new Option<string?>("--algorithm", "-a") { Description = "components (connected components with a tightness check) or whispers (Chinese whispers); default: Clustering:Algorithm of the server's configuration" };
        algorithm.AcceptOnlyFromAmong("components", "whispers");
        var threshold = new Option<float?>("--threshold") { Description = "Squared L2 distance under which two faces may join (default: Clustering:Threshold of the server's configuration)" };
        var k = new Option<int>("--k") { Description = "Neighbours per face in the kNN graph (0 = the default)" };
        var seed = new Option<int>("--seed") { Description = "Seed of Chinese whispers' visiting order (0 = the default); same seed, same clusters" };
        var output = new Option<string?>("--output", "-o") { Description = "Write every member as 'key,cluster' (key: face id, or image path for --images) to this CSV file" };
        var eval = new Option<string?>("--eval") { Description = "Score the clusters against labels: a 'key,label' file (key: face id, or image path relative to --images), 'persons' (each face's enrolled person) or 'folders' (with --images: each image's first folder)" };
        var top = new Option<int>("--top") { Description = "Largest clusters to list", DefaultValueFactory = _ => 10 };
        var noProgress = new Option<bool>("--no-progress") { Description = "Print a line per phase instead of a progress bar" };
        var cache = new Option<string?>("--cache") { Description = "With --images: folder of the embedding cache (a re-run embeds only new or changed images)" };
        var server = new ServerClientOptions();
        var vision = new VisionCliOptions(withFlip: false);
        var command = new Command("cluster", "Group the faces of a collection (or of a folder of images) into identities, and score the result against labels.");
        command.Add(data);
        command.Add(images);
        command.Add(algorithm);
        command.Add(threshold);
        command.Add(k);
        command.Add(seed);
        command.Add(output);
        command.Add(eval);
        command.Add(top);
        command.Add(noProgress);
        command.Add(cache);
        server.AddTo(command);
        vision.AddTo(command);
        command.SetAction((parse, ct) => ServerClientOptions.RunAsync(console, async () =>
        {
            var dataDirectory = parse.GetValue(data);
            var imageFolder = parse.GetValue(images);
            if (dataDirectory is not null && imageFolder is not null)
            {
                throw new ArgumentException("--data and --images exclude each other: cluster a data directory or a folder of images.");
            }

            var evalSpec = parse.GetValue(eval);
            if ((evalSpec == "folders" && imageFolder is null) || (evalSpec == "persons" && imageFolder is not null))
            {
                throw new ArgumentException(evalSpec == "folders" ? "--eval folders needs --images." : "--eval persons needs a collection (--server or --data), not --images.");
            }

            var fileLabels = evalSpec is null or "persons" or "folders" ? null : await ReadLabelsAsync(evalSpec, ct).ConfigureAwait(false);
            bool showProgress = !parse.GetValue(noProgress) && console.Profile.Capabilities.Interactive;
            bool withMembers = evalSpec is not null || parse.GetValue(output) is not null;
            EngineAlgorithm? chosen = parse.GetValue(algorithm) switch
            {
                "whispers" => EngineAlgorithm.ChineseWhispers,
                "components" => EngineAlgorithm.ConnectedComponents,
                _ => null,
            };

            ClusterListing listing;
            Dictionary<string, string>? labels = fileLabels;
            if (imageFolder is not null)
            {
                var defaults = ConfiguredDefaults();
                var options = new ClusteringOptions
                {
                    Algorithm = chosen ?? defaults.Algorithm,
                    Threshold = parse.GetValue(threshold) ?? defaults.Threshold,
                    K = parse.GetValue(k) is > 0 and var kk ? kk : defaults.K,
                    Seed = parse.GetValue(seed) is not 0 and var s ? s : defaults.Seed,
                };
                options.Validate();
                await using var pipeline = FacePipeline.Create(vision.Read(parse));
                listing = await ImageClustering.RunAsync(console, pipeline, imageFolder, parse.GetValue(cache), options, showProgress, ct).ConfigureAwait(false);
                labels ??= evalSpec == "folders" ? FolderLabels(listing) : null;
            }
            else
            {
                var request = new StartClusteringRequest
                {
                    Collection = server.Collection(parse),
                    Algorithm = chosen switch
                    {
                        EngineAlgorithm.ChineseWhispers => Protocol.V1.ClusteringAlgorithm.ChineseWhispers,
                        EngineAlgorithm.ConnectedComponents => Protocol.V1.ClusteringAlgorithm.ConnectedComponents,
                        _ => Protocol.V1.ClusteringAlgorithm.Unspecified,
                    },
                    K = parse.GetValue(k),
                    Seed = (ulong)Math.Max(0, parse.GetValue(seed)),
                };
                if (parse.GetValue(threshold) is { } t)
                {
                    request.Threshold = t;
                }

                await using var embedded = dataDirectory is null ? null : await StartEmbeddedAsync(console, dataDirectory, vision.Read(parse), ct).ConfigureAwait(false);
                using var channel = embedded is null ? server.Connect(parse) : null;
                var client = new Protocol.V1.FaceIndex.FaceIndexClient(embedded?.Channel ?? channel!);
                var operation = await ServerClustering.RunAsync(console, client, request, showProgress, ct).ConfigureAwait(false);
                if (operation.State != OperationState.Succeeded)
                {
                    console.MarkupLineInterpolated($"[red]clustering {operation.State.ToString().ToLowerInvariant()}:[/] {operation.Error}");
                    return CliErrors.ExitError;
                }

                listing = await ServerClustering.ReadAsync(client, request.Collection, withMembers, CancellationToken.None).ConfigureAwait(false);
                labels ??= evalSpec == "persons" ? await ServerClustering.PersonLabelsAsync(client, request.Collection, CancellationToken.None).ConfigureAwait(false) : null;
            }

            listing.Print(console, parse.GetValue(top));
            if (parse.GetValue(output) is { } path)
            {
                await listing.WriteCsvAsync(path, imageFolder is null ? "face_id" : "image", CancellationToken.None).ConfigureAwait(false);
                console.MarkupLineInterpolated($"members written to {path}");
            }

            if (labels is not null)
            {
                var (quality, unlabelled, unmatched) = listing.Evaluate(labels);
                ClusterListing.PrintQuality(console, quality, unlabelled, unmatched);
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The Clustering section of the configuration a server beside this binary would read
    /// (appsettings.json, then FACEINDEX__Clustering__… variables): the defaults of --images runs.
    /// </summary>
    private static ClusteringOptions ConfiguredDefaults() =>
        FaceIndexServer.ReadConfiguration([]).GetSection("Clustering").Get<ClusteringOptions>() ?? new ClusteringOptions();

    private static async Task<EmbeddedServer> StartEmbeddedAsync(IAnsiConsole console, string dataDirectory, VisionOptions vision, CancellationToken ct)
    {
        console.MarkupLineInterpolated($"opening {dataDirectory} (recovery and index load, as a server starts)");
        string[] settings =
        [
            "--Vision:ModelsDirectory=" + Path.GetFullPath(vision.ModelsDirectory),
            .. vision.BundleDirectory is { } bundle ? ["--Vision:BundleDirectory=" + Path.GetFullPath(bundle)] : Array.Empty<string>(),
        ];
        return await EmbeddedServer.StartAsync(Path.GetFullPath(dataDirectory), settings, ct).ConfigureAwait(false);
    }

    private static async Task<Dictionary<string, string>> ReadLabelsAsync(string path, CancellationToken ct)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in await LabelFile.ReadAsync(path, ct).ConfigureAwait(false))
        {
            if (!labels.TryAdd(entry.Key.Replace('\\', '/'), entry.Label))
            {
                throw new FormatException($"Label file {path}: '{entry.Key}' is labelled more than once.");
            }
        }

        return labels;
    }

    /// <summary>Each image's first folder under the clustered folder as its label (the layout of LFW and CelebA sets).</summary>
    private static Dictionary<string, string> FolderLabels(ClusterListing listing)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in listing.Members)
        {
            int slash = member.Key.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0)
            {
                labels[member.Key] = member.Key[..slash];
            }
        }

        return labels;
    }
}
