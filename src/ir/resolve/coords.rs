//! `coords` blocks: alternative coordinates, their new parameters and
//! the map back to the model's parameters.

use super::*;

impl Resolver {
    pub(super) fn coords_block(
        &mut self,
        name: &ast::Ident,
        params: &[(ast::DeclName, ast::Domain, Span)],
        maps: &[(ast::Target, AstExpr, Span)],
        span: Span,
    ) -> Res<()> {
        self.coord_scope.clear();
        let (new_params, params_ok) = self.coord_params(params);
        let (map, maps_ok) = self.coord_maps(maps);
        let ok = params_ok && maps_ok;
        let ok = self.check_coords_complete(name, &new_params, &map, ok);
        self.coord_scope.clear();
        if !ok {
            return Err(());
        }
        let ordered = self
            .params
            .iter()
            .map(|p| (p.name.clone(), map[&p.name].0.clone()))
            .collect();
        self.coords.push(Coords {
            name: name.name.clone(),
            params: new_params,
            map: ordered,
            span,
        });
        Ok(())
    }

    /// The block's new parameters (each also in the block's scope).
    fn coord_params(
        &mut self,
        params: &[(ast::DeclName, ast::Domain, Span)],
    ) -> (Vec<Param>, bool) {
        let mut new_params = Vec::new();
        let mut ok = true;
        for (dn, dom, pspan) in params {
            let Ok(dom) = self.domain(dom, Ctx::Constant) else {
                ok = false;
                continue;
            };
            if self.decls.contains_key(&dn.ident.name)
                || self.coord_scope.contains_key(&dn.ident.name)
            {
                let prev = self
                    .decls
                    .get(&dn.ident.name)
                    .or(self.coord_scope.get(&dn.ident.name))
                    .map(|d| d.span)
                    .unwrap_or_default();
                self.error(
                    Diagnostic::error(
                        "E0102",
                        format!("`{}` is declared twice", dn.ident.name),
                        dn.ident.span,
                        "declared again here",
                    )
                    .with_label(prev, "first declared here")
                    .with_help("new coordinates need names of their own"),
                );
                ok = false;
                continue;
            }
            let range = match &dn.range {
                Some(r) => match self.int_range(r) {
                    Ok(r) => Some(r),
                    Err(()) => {
                        ok = false;
                        continue;
                    }
                },
                None => None,
            };
            self.coord_scope.insert(
                dn.ident.name.clone(),
                Decl {
                    kind: Kind::CoordParam,
                    span: dn.ident.span,
                    range,
                },
            );
            match range {
                None => new_params.push(Param {
                    name: Name::from(dn.ident.name.as_str()),
                    domain: dom,
                    span: *pspan,
                }),
                Some((lo, hi)) => {
                    for i in lo..=hi {
                        new_params.push(Param {
                            name: Name::from(format!("{}[{i}]", dn.ident.name).as_str()),
                            domain: dom.clone(),
                            span: *pspan,
                        });
                    }
                }
            }
        }
        (new_params, ok)
    }

    /// The maps `param = expression in the new parameters`, each model
    /// parameter once.
    fn coord_maps(
        &mut self,
        maps: &[(ast::Target, AstExpr, Span)],
    ) -> (HashMap<Name, (Expr, Span)>, bool) {
        let mut map: HashMap<Name, (Expr, Span)> = HashMap::new();
        let mut ok = true;
        for (target, e, mspan) in maps {
            let lhs = self.coord_map_target(target);
            let rhs = self.scalar(e, Ctx::Coords);
            match (lhs, rhs) {
                (Some(l), Ok(r)) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = map.entry(l.clone()) {
                        slot.insert((r, *mspan));
                    } else {
                        self.error(
                            Diagnostic::error(
                                "E0102",
                                format!("`{l}` is mapped twice"),
                                *mspan,
                                "second mapping",
                            )
                            .with_help("give each parameter once"),
                        );
                        ok = false;
                    }
                }
                _ => ok = false,
            }
        }
        (map, ok)
    }

    /// The model parameter on the left of a map (`None`, reported, when it
    /// is not one).
    fn coord_map_target(&mut self, target: &ast::Target) -> Option<Name> {
        match self.decls.get(&target.ident.name).cloned() {
            _ if self.poisoned.contains(&target.ident.name) => None,
            Some(d) if d.kind == Kind::Param => match (&target.index, d.range) {
                (None, None) => Some(Name::from(target.ident.name.as_str())),
                (Some(ix), Some(range)) => self
                    .index_value(ix, &target.ident.name, range)
                    .ok()
                    .map(|i| Name::from(format!("{}[{i}]", target.ident.name).as_str())),
                _ => {
                    self.error(
                        Diagnostic::error("E0107", format!("`{}` needs {} index here", target.ident.name, if d.range.is_some() { "an" } else { "no" }), target.span, "index mismatch")
                            .with_help("map each element of an indexed parameter separately: a[1] = ..., a[2] = ..."),
                    );
                    None
                }
            },
            Some(d) => {
                self.error(
                    Diagnostic::error("E0111", format!("`{}` is a {}, not a parameter", target.ident.name, d.kind.noun()), target.span, "only parameters can be mapped")
                        .with_label(d.span, "declared here")
                        .with_help("a coordinates block gives the model's parameters as functions of the new ones"),
                );
                None
            }
            None => {
                self.error(self.unknown_name(
                    &target.ident.name,
                    target.ident.span,
                    "the left side must be a model parameter",
                ));
                None
            }
        }
    }

    /// Every model parameter is given, at least one new parameter is
    /// declared (errors), and every new one is used (a warning). Whether the
    /// block is still good.
    fn check_coords_complete(
        &mut self,
        name: &ast::Ident,
        new_params: &[Param],
        map: &HashMap<Name, (Expr, Span)>,
        mut ok: bool,
    ) -> bool {
        let missing: Vec<String> = self
            .params
            .iter()
            .filter(|p| !map.contains_key(&p.name))
            .map(|p| p.name.to_string())
            .collect();
        if ok && !missing.is_empty() {
            self.error(
                Diagnostic::error(
                    "E0122",
                    format!(
                        "coordinates `{}` do not give {}",
                        name.name,
                        missing.join(", ")
                    ),
                    name.span,
                    "incomplete coordinates",
                )
                .with_help(format!(
                    "add a line `{} = ...` in terms of the new parameters",
                    missing[0]
                )),
            );
            ok = false;
        }
        if new_params.is_empty() && ok {
            self.error(
                Diagnostic::error(
                    "E0122",
                    format!("coordinates `{}` declare no parameters", name.name),
                    name.span,
                    "no new parameters",
                )
                .with_help(
                    "declare the new coordinates inside the block with `param NAME : DOMAIN`",
                ),
            );
            ok = false;
        }
        let unused: Vec<&Param> = new_params
            .iter()
            .filter(|p| !map.values().any(|(e, _)| e.contains_var(&p.name)))
            .collect();
        if ok && let Some(p) = unused.first() {
            let d = Diagnostic::warning("W0202", format!("coordinate `{}` is never used", p.name), p.span, "unused").with_help("every new coordinate should appear in the maps; otherwise its Fisher information is zero");
            self.error(d);
        }
        ok
    }
}
