using FaceIndex.Core;
using FaceIndex.Storage;

namespace FaceIndex.Engine;

/// <summary>A face's codes under a collection's model: the searched one and, under a fused model, the second.</summary>
/// <param name="Primary">The searched code.</param>
/// <param name="Secondary">The second code of a fused model; null otherwise.</param>
public readonly record struct FaceCodes(FaceVector Primary, FaceVector? Secondary);

/// <summary>One face copied by <see cref="FaceDatabase.CopyCollectionAsync"/>: its id in the source and in the target.</summary>
/// <param name="From">Face id in the source collection.</param>
/// <param name="To">Face id in the target collection.</param>
public readonly record struct CopiedFace(long From, long To);

public sealed partial class FaceDatabase
{
    /// <summary>Persons read and written per durable batch of a copy.</summary>
    private const int CopyPersonsPerBatch = 64;

    /// <summary>
    /// Copies every person (with its metadata) and every face of <paramref name="source"/> into the existing,
    /// empty collection <paramref name="target"/>, each face's codes given by <paramref name="recode"/>
    /// (a migration to another model), its box, detector score, image hash and tags kept. Faces get new ids
    /// (<paramref name="copied"/> hears each batch's pairs once they are durable); faces of one image stay
    /// one write, so that duplicate detection holds in the target as it did in the source. Writes to the
    /// source while the copy runs are not carried over (a person is read once). Returns the faces copied.
    /// </summary>
    /// <exception cref="FaceIndexException">NotFound: either collection does not exist.</exception>
    public async Task<long> CopyCollectionAsync(
        string source,
        string target,
        Func<FaceRecord, FaceCodes> recode,
        Func<IReadOnlyList<CopiedFace>, CancellationToken, Task>? copied,
        Action<long, long>? progress,
        CancellationToken ct)
    {
        ThrowIfDisposed();
        if (!TryGetCollection(source, out var from))
        {
            throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{source}' does not exist.");
        }

        if (!TryGetCollection(target, out var to))
        {
            throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{target}' does not exist.");
        }

        long total = from.FaceCount, done = 0;
        progress?.Invoke(0, total);
        string? token = null;
        do
        {
            ct.ThrowIfCancellationRequested();
            var page = ListPersons(source, CopyPersonsPerBatch, token);
            var requests = new List<AddFacesRequest>();
            var origins = new List<IReadOnlyList<FaceRecord>>();
            foreach (var person in page.Persons)
            {
                if (person.Metadata.Count > 0)
                {
                    await SetPersonMetadataAsync(target, person.PersonId, person.Metadata, ct).ConfigureAwait(false);
                }

                var image = new List<FaceRecord>();
                foreach (long faceId in person.FaceIds)
                {
                    if (!TryGetFace(faceId, out var face) || face.Collection != source)
                    {
                        continue;
                    }

                    if (image.Count > 0 && !SameImage(image[0], face))
                    {
                        Add(image);
                        image = [];
                    }

                    image.Add(face);
                }

                if (image.Count > 0)
                {
                    Add(image);
                }
            }

            if (requests.Count > 0)
            {
                var results = await AddFacesBatchAsync(requests, ct).ConfigureAwait(false);
                var pairs = new List<CopiedFace>();
                for (int i = 0; i < results.Count; i++)
                {
                    for (int f = 0; f < origins[i].Count && f < results[i].Faces.Count; f++)
                    {
                        pairs.Add(new CopiedFace(origins[i][f].FaceId, results[i].Faces[f].FaceId));
                    }
                }

                if (copied is not null)
                {
                    await copied(pairs, ct).ConfigureAwait(false);
                }

                done += pairs.Count;
                progress?.Invoke(done, Math.Max(total, done));
            }

            token = page.NextPageToken;

            void Add(List<FaceRecord> faces)
            {
                var first = faces[0];
                var recoded = faces.Select(face =>
                {
                    var codes = recode(face);
                    return new NewFace(codes.Primary, face.Box, face.DetectionScore) { SecondaryVector = codes.Secondary };
                }).ToList();
                requests.Add(new AddFacesRequest(target, first.PersonId, recoded, to.ModelVersion, first.ContentHash, first.Tags));
                origins.Add(faces);
            }
        }
        while (token is not null);

        return done;
    }

    /// <summary>Whether two faces of a person came from one enrol request (the same image hash and tags).</summary>
    private static bool SameImage(FaceRecord a, FaceRecord b) =>
        a.ContentHash is { } x && b.ContentHash is { } y && x.AsSpan().SequenceEqual(y)
        && a.Tags.Count == b.Tags.Count && a.Tags.All(t => b.Tags.TryGetValue(t.Key, out var v) && v == t.Value);
}
