-- Hardening of Debian's Virtuoso 7.2 (tested: 7.2.5.3229) for kiezgraph: Virtuoso's own wall
-- behind kiezgraph's check (SECURITY.md, issue #26). Run it once as dba, e.g.
--   kiezgraph harden-sql | isql-vt 127.0.0.1:1111 dba "$DBA_PASSWORD"
-- `kiezgraph harden-sql` fills in {{loader}} (KIEZGRAPH_STORE_USER, the account `kiezgraph load`
-- writes with) and {{graphs}} (the base's graph namespace, <base>graph/). Then run
-- `kiezgraph load` once more: it publishes the release it loads to anonymous readers.
--
-- Nothing in Virtuoso 7.2.5 itself (grant, role, ini or registry key) forbids `bif:` and
-- `sql:` calls in a SPARQL query: its SPARQL compiler checks a short built-in deny list
-- only, and a bif runs as a plain SQL call. So part C puts a deny-by-default guard in
-- front of /sparql and /sparql-auth, written in Virtuoso PL on Virtuoso's own SPARQL lexer
-- (sparql_lex_analyze): it reads the query as the engine does.

-- ---------------------------------------------------------------------------
-- A. Graph-level security: anonymous readers see only what a load published.
-- ---------------------------------------------------------------------------
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0);       -- /sparql (user SPARQL) reads as 'nobody'
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('{loader}', 3);     -- the loader reads and writes everywhere

-- Making a graph readable by anonymous readers needs dba rights; the loader gets exactly
-- that through a procedure that runs with its definer's rights and takes only graphs under
-- kiezgraph's graph namespace (release graphs, their manifests and the release pointer).
create procedure DB.DBA.KG_PUBLISH_GRAPH (in g varchar, in readable integer := 1)
{{
  if (not isstring (g) or g not like '{graphs}%')
    signal ('KG001', 'KG_PUBLISH_GRAPH: not a graph of this kiezgraph dataset');
  DB.DBA.RDF_GRAPH_USER_PERMS_SET (g, 'nobody', case when readable then 1 else 0 end);
  return 1;
}}
;
GRANT EXECUTE ON DB.DBA.KG_PUBLISH_GRAPH TO "{loader}";

-- ---------------------------------------------------------------------------
-- B. Accounts that bypass the guard (the loader's updates call sql:KG_PUBLISH_GRAPH).
-- ---------------------------------------------------------------------------
create role KG_UNGUARDED;
GRANT KG_UNGUARDED TO "{loader}";

-- ---------------------------------------------------------------------------
-- C. Deny-by-default guard for query text.  Returns NULL when acceptable, else the reason.
--    Refused: DEFINE pragmas, SERVICE; any IRI (BASE's too) or prefixed name that resolves into the
--    bif: or sql: namespaces (function or special predicate alike); any PREFIX bound to
--    them; backslash escapes inside IRIs/prefixed names; every IRI-named function call
--    except xsd: casts (standard SPARQL built-ins are keywords and stay allowed).
--    Known false positive: an IRI directly followed by an RDF collection "( ... )".
-- ---------------------------------------------------------------------------
create procedure DB.DBA.KG_SPARQL_NS_OK (in iri varchar) returns integer
{{
  declare l varchar;
  l := lower (trim (iri));
  if (strstr (l, 'bif:') is not null or strstr (l, 'sql:') is not null
      or strstr (l, '::') is not null or strchr (l, chr (92)) is not null)
    return 0;
  return 1;
}}
;

create procedure DB.DBA.KG_SPARQL_GUARD (in q any) returns varchar
{{
  declare toks, t, decls, cands any;
  declare i, j, n, colon integer;
  declare txt, up, pfx, loc, iri varchar;
  declare exit handler for sqlstate '*' {{ return 'query text not accepted: ' || __SQL_MESSAGE; }};
  if (not isstring (q))
    return 'query must be text';
  toks := sparql_lex_analyze (q);
  n := length (toks);
  decls := vector ();
  -- pass 1: lexer errors, forbidden keywords, PREFIX declarations
  for (i := 0; i < n; i := i + 1)
    {{
      t := toks[i];
      if (length (t) <> 4 or t[0] = 0)
        return 'query text not accepted: ' || cast (t[length (t) - 1] as varchar);
      txt := cast (t[2] as varchar);
      up := upper (txt);
      if (up in ('DEFINE', 'SERVICE'))
        return sprintf ('%s is not allowed', up);
      if (up = 'PREFIX' and i + 2 < n)
        {{
          pfx := cast (toks[i+1][2] as varchar);
          iri := cast (toks[i+2][2] as varchar);
          if (length (pfx) < 1 or pfx[length (pfx) - 1] <> 58 or iri not like '<%>')
            return 'malformed PREFIX declaration';
          iri := subseq (iri, 1, length (iri) - 1);
          if (not DB.DBA.KG_SPARQL_NS_OK (iri))
            return sprintf ('PREFIX %s <%s> is not allowed', pfx, iri);
          decls := vector_concat (decls, vector (subseq (pfx, 0, length (pfx) - 1), iri));
        }}
    }}
  -- pass 2: every IRI and prefixed name
  for (i := 0; i < n; i := i + 1)
    {{
      txt := cast (toks[i][2] as varchar);
      cands := null;
      if (txt like '<%>' and length (txt) > 2)
        {{
          loc := subseq (txt, 1, length (txt) - 1);
          cands := vector (loc);
        }}
      else if (strchr (txt, ':') is not null and txt[0] <> 34 and txt[0] <> 39
               and txt[0] <> 63 and txt[0] <> 36 and txt[0] <> 95 and txt[0] <> 64)
        {{
          -- prefixed name (not a string, variable, blank node or language tag)
          colon := strchr (txt, ':');
          pfx := subseq (txt, 0, colon);
          loc := subseq (txt, colon + 1);
          cands := vector ();
          for (j := 0; j < length (decls); j := j + 2)
            if (decls[j] = pfx)
              cands := vector_concat (cands, vector (decls[j+1] || loc));
          if (length (cands) = 0)
            {{
              if (pfx = 'xsd')
                iri := 'http://www.w3.org/2001/XMLSchema#';
              else if (pfx = 'rdf')
                iri := 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
              else if (lower (pfx) in ('bif', 'sql'))
                iri := pfx || ':';
              else
                iri := coalesce (__xml_get_ns_uri (pfx, 3), '');
              cands := vector (iri || loc);
            }}
        }}
      if (cands is null)
        goto next_tok;
      foreach (varchar c in cands) do
        {{
          if (not DB.DBA.KG_SPARQL_NS_OK (c))
            return sprintf ('%s is not allowed in queries', txt);
        }}
      if (i + 1 < n and cast (toks[i+1][2] as varchar) = '(')
        {{
          -- a function call named by an IRI: only xsd casts
          foreach (varchar c in cands) do
            {{
              if (c not like 'http://www.w3.org/2001/XMLSchema#%'
                  or length (c) < 34 or coalesce (regexp_match ('[A-Za-z]+', subseq (c, 33)), '') <> subseq (c, 33))
                return sprintf ('function %s is not allowed (only SPARQL built-ins and xsd: casts)', txt);
            }}
        }}
next_tok: ;
    }}
  return null;
}}
;

-- The wrapper endpoint: form-encoded GET/POST only, known parameters only, one query/update,
-- guard unless the account is in role KG_UNGUARDED; then Virtuoso's own endpoint.
create procedure WS.WS."/!kgsparql/" (inout path varchar, inout params any, inout lines any)
{{
  declare i, nq integer;
  declare pname, reason, ct, uid, qtext varchar;
  declare exit handler for sqlstate '*' {{
    DB.DBA.SPARQL_PROTOCOL_ERROR_REPORT (path, params, lines, '400', 'Bad Request',
      '', __SQL_STATE, __SQL_MESSAGE);
    return;
  }};
  uid := connection_get ('SPARQLUserId', 'SPARQL');
  if (exists (select 1 from DB.DBA.SYS_USERS as sup, DB.DBA.SYS_ROLE_GRANTS as g, DB.DBA.SYS_USERS as sub
              where sup.U_NAME = uid and g.GI_SUPER = sup.U_ID and g.GI_SUB = sub.U_ID
                and sub.U_NAME = 'KG_UNGUARDED'))
    {{
      WS.WS."/!sparql/" (path, params, lines);
      return;
    }}
  ct := http_request_header (lines, 'Content-Type', null, '');
  if (http_request_get ('REQUEST_METHOD') not in ('GET', 'POST')
      or http_request_header (lines, 'SOAPAction', null, null) is not null
      or (http_request_get ('REQUEST_METHOD') = 'POST'
          and ct not like 'application/x-www-form-urlencoded%'))
    signal ('KG400', 'only GET or form-encoded POST requests are accepted');
  nq := 0;
  qtext := null;
  for (i := 0; i < length (params); i := i + 2)
    {{
      pname := params[i];
      if (pname in ('query', 'update'))
        {{
          nq := nq + 1;
          qtext := params[i+1];
        }}
      else if (pname not in ('default-graph-uri', 'named-graph-uri', 'using-graph-uri',
                             'using-named-graph-uri', 'format', 'timeout', 'Content'))
        signal ('KG400', sprintf ('parameter "%s" is not accepted', pname));
    }}
  if (nq <> 1)
    signal ('KG400', 'exactly one query (or update) parameter is required');
  reason := DB.DBA.KG_SPARQL_GUARD (qtext);
  if (reason is not null)
    {{
      DB.DBA.SPARQL_PROTOCOL_ERROR_REPORT (path, params, lines, '400', 'Bad Request',
        qtext, '42000', 'KG-GUARD: ' || reason);
      return;
    }}
  WS.WS."/!sparql/" (path, params, lines);
}}
;

-- Point /sparql and /sparql-auth at the wrapper (keeping their host bindings and auth).
create procedure DB.DBA.KG_SPARQL_GUARD_INSTALL ()
{{
  for (select HP_HOST as h, HP_LISTEN_HOST as lh, HP_LPATH as lp, HP_SECURITY as sec,
              HP_AUTH_FUNC as af, HP_REALM as realm
         from DB.DBA.HTTP_PATH where HP_PPATH = '/!sparql/') do
    {{
      DB.DBA.VHOST_REMOVE (vhost=>h, lhost=>lh, lpath=>lp);
      if (af is null)
        DB.DBA.VHOST_DEFINE (vhost=>h, lhost=>lh, lpath=>lp, ppath=>'/!kgsparql/', is_dav=>1,
                             vsp_user=>'dba', opts=>vector ('noinherit', 1));
      else
        DB.DBA.VHOST_DEFINE (vhost=>h, lhost=>lh, lpath=>lp, ppath=>'/!kgsparql/', is_dav=>1,
                             vsp_user=>'dba', opts=>vector ('noinherit', 1), auth_fn=>af,
                             realm=>realm, sec=>sec);
    }}
}}
;
-- the DAV dispatcher only runs WS.WS."<ppath>" procedures flagged like this:
registry_set ('/!kgsparql/', 'no_vsp_recompile');
DB.DBA.KG_SPARQL_GUARD_INSTALL ();
