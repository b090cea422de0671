namespace Lightfast.Cloud.Errors;

/// <summary>What kind of failure an error is; the gateway turns it into an HTTP status.</summary>
[GenerateSerializer]
[Alias("lightfast.ErrorCategory")]
public enum ErrorCategory
{
    /// <summary>The caller sent something invalid (400).</summary>
    Validation = 0,

    /// <summary>The named thing does not exist (404).</summary>
    NotFound = 1,

    /// <summary>The request conflicts with the current state (409).</summary>
    Conflict = 2,

    /// <summary>The request was well formed but a tool could not accept it (422).</summary>
    Unprocessable = 3,

    /// <summary>An MCP server or other upstream failed (502).</summary>
    Upstream = 4,

    /// <summary>The server is not available right now; trying later may work (503).</summary>
    Unavailable = 5,

    /// <summary>An upstream did not answer in time (504).</summary>
    Timeout = 6,

    /// <summary>The deployment is misconfigured (500).</summary>
    Configuration = 7,

    /// <summary>The operation was cancelled by its caller (499).</summary>
    Cancelled = 8,
}
