using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json.Nodes;
using FaceIndex.Core;
using FaceIndex.Vision.Conversion;

namespace FaceIndex.Cli.Commands;

/// <summary>
/// Makes models/dlib128.onnx: when it is present with the SHA-256 pinned in model-bundle/models.json,
/// nothing happens; otherwise the pinned @vladmandic/face-api tarball is fetched with <c>npm pack</c>
/// (checked against its pinned SHA-256), the dlib ResNet's TensorFlow.js weights are read from it,
/// converted to ONNX by our own converter, and the result is checked against its pinned SHA-256. The
/// weights themselves are also written to models/face-api/ (the tests' reference forward pass reads them).
/// </summary>
internal sealed class DlibModelFetcher(string registryPath, string modelsDirectory, string cacheDirectory, Action<string> log)
{
    /// <summary>Folder under the models folder that receives the TFJS weights.</summary>
    public const string WeightsFolder = "face-api";

    /// <summary>Returns true when the model was converted.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: npm failed, or a checksum does not match.</exception>
    public async Task<bool> FetchAsync(CancellationToken ct)
    {
        var dlib = JsonNode.Parse(await File.ReadAllTextAsync(registryPath, ct).ConfigureAwait(false))!["dlib"]!;
        var package = dlib["package"]!;
        string name = (string)package["name"]!, version = (string)package["version"]!, tarballSha = (string)package["tarballSha256"]!;
        string manifestEntry = (string)package["weightsManifest"]!, weightsEntry = (string)package["weights"]!;
        string file = (string)dlib["file"]!, pinned = (string)dlib["sha256"]!;

        var target = Path.Combine(modelsDirectory, file);
        var weightsDir = Path.Combine(modelsDirectory, WeightsFolder);
        if (ModelFetcher.Sha256OfFile(target) == pinned && File.Exists(Path.Combine(weightsDir, Path.GetFileName(weightsEntry))))
        {
            log($"models: {target} matches models.json; nothing to convert.");
            return false;
        }

        Directory.CreateDirectory(cacheDirectory);
        Directory.CreateDirectory(weightsDir);

        // npm names a scoped package's tarball without the '@' and with '-' for '/'.
        var tarball = Path.Combine(cacheDirectory, $"{name.TrimStart('@').Replace('/', '-')}-{version}.tgz");
        if (ModelFetcher.Sha256OfFile(tarball) != tarballSha)
        {
            log($"models: npm pack {name}@{version}");
            File.Delete(tarball);
            await ModelFetcher.NpmPackAsync(cacheDirectory, $"{name}@{version}", ct).ConfigureAwait(false);
        }

        var actual = ModelFetcher.Sha256OfFile(tarball);
        if (actual != tarballSha)
        {
            File.Delete(tarball);
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The downloaded tarball {tarball} has SHA-256 {actual}, models.json pins {tarballSha}; refusing it.");
        }

        var (manifest, weights) = await ReadWeightsAsync(tarball, manifestEntry, weightsEntry, ct).ConfigureAwait(false);
        await File.WriteAllBytesAsync(Path.Combine(weightsDir, Path.GetFileName(manifestEntry)), manifest, ct).ConfigureAwait(false);
        await File.WriteAllBytesAsync(Path.Combine(weightsDir, Path.GetFileName(weightsEntry)), weights, ct).ConfigureAwait(false);

        var onnx = DlibResNetConverter.Convert(manifest, weights);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(onnx));
        if (sha != pinned)
        {
            throw new FaceIndexException(FaceIndexError.ModelMissing, $"The converted dlib model has SHA-256 {sha}, models.json pins {pinned}: the converter or the weights differ from the pinned ones.");
        }

        var staging = target + ".partial";
        await File.WriteAllBytesAsync(staging, onnx, ct).ConfigureAwait(false);
        File.Move(staging, target, overwrite: true);
        log($"models: {target} converted from {name}@{version} ok");
        return true;
    }

    private static async Task<(byte[] Manifest, byte[] Weights)> ReadWeightsAsync(string tarball, string manifestEntry, string weightsEntry, CancellationToken ct)
    {
        byte[]? manifest = null, weights = null;
        var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
        await using (gzip.ConfigureAwait(false))
        {
            var reader = new TarReader(gzip);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
                {
                    if (entry.DataStream is null || (entry.Name != manifestEntry && entry.Name != weightsEntry))
                    {
                        continue;
                    }

                    using var buffer = new MemoryStream();
                    await entry.DataStream.CopyToAsync(buffer, ct).ConfigureAwait(false);
                    if (entry.Name == manifestEntry)
                    {
                        manifest = buffer.ToArray();
                    }
                    else
                    {
                        weights = buffer.ToArray();
                    }
                }
            }
        }

        return manifest is not null && weights is not null
            ? (manifest, weights)
            : throw new FaceIndexException(FaceIndexError.ModelMissing, $"The tarball {tarball} lacks {manifestEntry} or {weightsEntry}.");
    }
}
