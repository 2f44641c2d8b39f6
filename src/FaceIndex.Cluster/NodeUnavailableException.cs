namespace FaceIndex.Cluster;

/// <summary>A node that holds a replica is not active, or a replica cannot serve; the caller turns to another replica.</summary>
[GenerateSerializer]
public sealed class NodeUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NodeUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NodeUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NodeUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>A write reached a replica that is not the shard's primary for the caller's epoch; the caller refreshes the layout and retries.</summary>
[GenerateSerializer]
public sealed class NotPrimaryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NotPrimaryException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NotPrimaryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NotPrimaryException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The cluster cannot serve a request now: too few active nodes, or no replica of a shard answered. Clients may retry.</summary>
[GenerateSerializer]
public sealed class ClusterUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ClusterUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ClusterUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
