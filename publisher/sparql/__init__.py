"""The SPARQL endpoint's core: the guard, evaluation with a time limit, formats, the service
description and the example queries. Knows nothing of the web."""
